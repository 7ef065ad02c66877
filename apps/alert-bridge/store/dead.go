package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// Replay moves dead letters back to the outbox, due now, with their
// attempts and max age reset and their ids (so their Idempotency-Keys)
// kept. Empty ids means all. Each replayed message is a group of its own,
// so an old state never overtakes the newer ones of its live group; the
// deliverer marks it replayed. It returns the ids re-queued.
func (s *Store) Replay(ctx context.Context, ids []string) ([]string, error) {
	var done []string
	err := s.submit(ctx, func(tx *bolt.Tx) error {
		done = done[:0]
		dead := tx.Bucket(bDead)
		todo := ids
		if len(todo) == 0 {
			if err := dead.ForEach(func(k, _ []byte) error { todo = append(todo, string(k)); return nil }); err != nil {
				return fmt.Errorf("list dead letters: %w", err)
			}
		}
		now := s.opts.Now()
		for _, id := range todo {
			v := getValue(dead, []byte(id))
			if v == nil {
				return fmt.Errorf("%w: %s", ErrNotFound, id)
			}
			h, raw, err := decodeHeader(v)
			if err != nil {
				return fmt.Errorf("dead letter %s: %w", id, err)
			}
			deadAt := h.DeadAt
			seq := s.seq.Add(1)
			h.Attempts, h.AgeFrom, h.DeadAt, h.LastError, h.Replayed = 0, now, time.Time{}, "", true
			h.Notification.GroupID = payload.GroupIDOf(payload.SourceBridge, 0, "replay", id)
			val, err := encodeMsg(&h, raw)
			if err != nil {
				return err
			}
			msgs := tx.Bucket(bMsgs)
			if err := msgs.SetSequence(max(seq, msgs.Sequence())); err != nil {
				return fmt.Errorf("persist sequence: %w", err)
			}
			if err := putValue(msgs, seqKey(seq), val); err != nil {
				return fmt.Errorf("put message %s: %w", id, err)
			}
			if _, err := s.appendToGroup(tx, h.Notification.GroupID, seq, now); err != nil {
				return err
			}
			if err := deleteValue(dead, []byte(id)); err != nil {
				return fmt.Errorf("delete dead letter %s: %w", id, err)
			}
			if err := tx.Bucket(bDeadIdx).Delete(append(be64(uint64(deadAt.UnixNano())), id...)); err != nil {
				return fmt.Errorf("delete dead-letter index of %s: %w", id, err)
			}
			done = append(done, id)
		}
		return nil
	}, func() {
		s.depth.Add(int64(len(done)))
		s.dead.Add(-int64(len(done)))
	})
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	return done, nil
}

// DeadLetters lists up to limit dead letters in id order.
func (s *Store) DeadLetters(limit int) ([]*outbox.Message, error) {
	var out []*outbox.Message
	err := s.db.View(func(tx *bolt.Tx) error {
		dead := tx.Bucket(bDead)
		c := dead.Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			m, err := toMessage(valueAt(dead, k, v))
			if err != nil {
				return fmt.Errorf("dead letter %s: %w", k, err)
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return out, nil
}

// PruneDead deletes dead letters parked longer than retention ago, in
// transactions of at most 1,000. It returns how many it deleted.
func (s *Store) PruneDead(ctx context.Context, retention time.Duration) (int, error) {
	total := 0
	for {
		n := 0
		err := s.submit(ctx, func(tx *bolt.Tx) error {
			n = 0
			cutoff := uint64(s.opts.Now().Add(-retention).UnixNano())
			idx, dead := tx.Bucket(bDeadIdx), tx.Bucket(bDead)
			c := idx.Cursor()
			var keys [][]byte
			for k, _ := c.First(); k != nil && len(keys) < 1000 && binary.BigEndian.Uint64(k[:8]) < cutoff; k, _ = c.Next() {
				keys = append(keys, bytes.Clone(k))
			}
			for _, k := range keys {
				if getValue(dead, k[8:]) != nil {
					if err := deleteValue(dead, k[8:]); err != nil {
						return fmt.Errorf("delete dead letter: %w", err)
					}
					n++
				}
				if err := idx.Delete(k); err != nil {
					return fmt.Errorf("delete dead-letter index: %w", err)
				}
			}
			return nil
		}, func() { s.dead.Add(-int64(n)) })
		if err != nil {
			return total, fmt.Errorf("prune dead letters: %w", err)
		}
		total += n
		if n < 1000 {
			return total, nil
		}
	}
}
