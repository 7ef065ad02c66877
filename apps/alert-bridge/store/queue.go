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

// Enqueue stores n durably unless it duplicates the last notification
// accepted for its group within the dedupe window. It returns after the
// transaction holding it has been fsync'd. Encoding happens on the
// caller's goroutine; the writer checks dedupe and copies bytes.
//
// A group keeps at most two pending states: the oldest (it may be out for
// delivery) and the newest. States in between are superseded by the new
// one and dropped in the same transaction: Alertmanager and Grafana send
// a group's whole state every time, so nothing the receiver needs is lost.
func (s *Store) Enqueue(ctx context.Context, n *payload.Notification) (outbox.EnqueueResult, error) {
	now := s.opts.Now()
	seq := s.seq.Add(1) // a duplicate leaves a gap in the sequence: harmless
	id := s.msgID(seq)
	// n.Raw usually has spare capacity (the receiver reads bodies into a
	// buffer sized for this): the header is appended without copying the body.
	val, err := appendHeader(n.Raw, &header{ID: id, ReceivedAt: now, AgeFrom: now, Notification: *n})
	if err != nil {
		return outbox.EnqueueResult{}, err
	}
	g := n.GroupID
	var res outbox.EnqueueResult
	superseded := 0
	err = s.submit(ctx, func(tx *bolt.Tx) error {
		res, superseded = outbox.EnqueueResult{}, 0
		if e, ok := s.dd.last(g); ok && e.key == n.DedupeKey && now.UnixNano()-e.at < int64(s.opts.DedupeWindow) {
			res = outbox.EnqueueResult{ID: s.msgID(e.seq), Duplicate: true}
			return nil
		}
		msgs := tx.Bucket(bMsgs)
		msgs.FillPercent = 0.95 // keys are appended in order: pack pages
		if seq > msgs.Sequence() {
			if err := msgs.SetSequence(seq); err != nil {
				return fmt.Errorf("persist sequence: %w", err)
			}
		}
		if err := putValue(msgs, seqKey(seq), val); err != nil {
			return fmt.Errorf("put message %s: %w", id, err)
		}
		var err error
		if superseded, err = s.appendToGroup(tx, g, seq, now); err != nil {
			return err
		}
		if err := s.dd.accept(tx, g, ddEntry{at: now.UnixNano(), key: n.DedupeKey, seq: seq}); err != nil {
			return err
		}
		res.ID = id
		return nil
	}, func() {
		if !res.Duplicate {
			s.depth.Add(1 - int64(superseded))
		}
		if superseded > 0 && s.opts.OnSuperseded != nil {
			s.opts.OnSuperseded(superseded)
		}
		if len(s.dd.groups) > s.dd.max+s.dd.max/8 && s.pruning.CompareAndSwap(false, true) {
			go func() {
				defer s.pruning.Store(false)
				_, _ = s.PruneDedupe(context.Background())
			}()
		}
	})
	if err != nil {
		return outbox.EnqueueResult{}, fmt.Errorf("enqueue: %w", err)
	}
	return res, nil
}

// appendToGroup queues seq at the end of group g, collapsing the states
// between the oldest and the new one, and schedules a group that had
// nothing pending. It returns how many states it collapsed.
func (s *Store) appendToGroup(tx *bolt.Tx, g payload.Digest, seq uint64, now time.Time) (int, error) {
	groups := tx.Bucket(bGroups)
	rec := group{next: now.UnixNano(), ageFrom: now.UnixNano()}
	superseded := 0
	if v := groups.Get(g[:]); v == nil {
		if err := tx.Bucket(bDue).Put(dueKey(rec.next, g), nil); err != nil {
			return 0, fmt.Errorf("schedule group: %w", err)
		}
	} else {
		var err error
		if rec, err = decodeGroup(v); err != nil {
			return 0, err
		}
		keep := min(1, len(rec.pending))
		for _, old := range rec.pending[keep:] {
			if err := deleteMsg(tx, old); err != nil {
				return 0, err
			}
			superseded++
		}
		rec.pending = rec.pending[:keep]
		rec.superseded += superseded
	}
	rec.pending = append(rec.pending, seq)
	if err := groups.Put(g[:], rec.encode()); err != nil {
		return 0, fmt.Errorf("put group: %w", err)
	}
	return superseded, nil
}

func deleteMsg(tx *bolt.Tx, seq uint64) error {
	if err := deleteValue(tx.Bucket(bMsgs), seqKey(seq)); err != nil {
		return fmt.Errorf("delete message %d: %w", seq, err)
	}
	return nil
}

// Expedite makes every group scheduled later than now due now: the target
// answered again, so backoff earned while it was down no longer applies.
// It works in transactions of at most 1,000 groups.
func (s *Store) Expedite(ctx context.Context) error {
	for {
		moved := 0
		err := s.submit(ctx, func(tx *bolt.Tx) error {
			moved = 0
			now := s.opts.Now().UnixNano()
			due, groups := tx.Bucket(bDue), tx.Bucket(bGroups)
			c := due.Cursor()
			var keys [][]byte
			for k, _ := c.Seek(be64(uint64(now + 1))); k != nil && len(keys) < 1000; k, _ = c.Next() {
				keys = append(keys, bytes.Clone(k))
			}
			for _, k := range keys {
				var g payload.Digest
				copy(g[:], k[8:])
				v := groups.Get(g[:])
				if v == nil {
					if err := due.Delete(k); err != nil {
						return fmt.Errorf("drop orphan due key: %w", err)
					}
					continue
				}
				rec, err := decodeGroup(v)
				if err != nil {
					return err
				}
				if err := s.reschedule(tx, g, &rec, now); err != nil {
					return err
				}
				moved++
			}
			return nil
		}, nil)
		if err != nil {
			return fmt.Errorf("expedite: %w", err)
		}
		if moved < 1000 {
			return nil
		}
	}
}

// reschedule moves group g's due key to at and stores rec.
func (s *Store) reschedule(tx *bolt.Tx, g payload.Digest, rec *group, at int64) error {
	due := tx.Bucket(bDue)
	if err := due.Delete(dueKey(rec.next, g)); err != nil {
		return fmt.Errorf("unschedule group: %w", err)
	}
	rec.next = at
	if err := due.Put(dueKey(at, g), nil); err != nil {
		return fmt.Errorf("schedule group: %w", err)
	}
	if err := tx.Bucket(bGroups).Put(g[:], rec.encode()); err != nil {
		return fmt.Errorf("put group: %w", err)
	}
	return nil
}

// NextDue is the earliest scheduled attempt, ok=false when nothing is pending.
func (s *Store) NextDue() (t time.Time, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bDue).Cursor().First()
		if k != nil {
			t, ok = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))), true
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	return t, ok, nil
}
