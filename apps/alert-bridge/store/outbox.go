package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// Message is one notification in the outbox or among the dead letters.
type Message struct {
	// ID is unique per store file and stable for the message's life: it is
	// the Idempotency-Key of every delivery attempt.
	ID          string    `json:"id"`
	GroupID     string    `json:"groupId"`
	DedupeKey   string    `json:"dedupeKey"`
	ReceivedAt  time.Time `json:"receivedAt"`
	AgeFrom     time.Time `json:"ageFrom"` // max age counts from here (reset by replay)
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"nextAttempt"`
	LastError   string    `json:"lastError,omitempty"`
	DeadAt      time.Time `json:"deadAt,omitzero"`
	// Notification is the decoded webhook.
	Notification *payload.Notification `json:"notification"`
}

// EnqueueResult tells the caller what happened to a notification.
type EnqueueResult struct {
	ID        string // the new message, or the one it duplicates
	Duplicate bool
}

func dueKey(t time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	return append(k, id...)
}

// A stored value is be64(nextAttempt ns) || JSON(Message). The prefix is
// the authoritative schedule: writers read it to find the message's one
// due key, and stale copies (a scan snapshot older than a retry) are
// recognised without decoding the JSON.
func encodeMsg(m *Message) ([]byte, error) {
	j, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode message %s: %w", m.ID, err)
	}
	v := make([]byte, 8, 8+len(j))
	binary.BigEndian.PutUint64(v, uint64(m.NextAttempt.UnixNano()))
	return append(v, j...), nil
}

func schedOf(v []byte) int64 { return int64(binary.BigEndian.Uint64(v[:8])) }

func putMsg(b *bolt.Bucket, m *Message) error {
	v, err := encodeMsg(m)
	if err != nil {
		return err
	}
	if err := b.Put([]byte(m.ID), v); err != nil {
		return fmt.Errorf("put message %s: %w", m.ID, err)
	}
	return nil
}

func decodeMsg(id string, v []byte) (*Message, error) {
	if len(v) < 8 {
		return nil, fmt.Errorf("decode message %s: value too short", id)
	}
	var m Message
	if err := json.Unmarshal(v[8:], &m); err != nil {
		return nil, fmt.Errorf("decode message %s: %w", id, err)
	}
	return &m, nil
}

func getMsg(b *bolt.Bucket, id string) (*Message, error) {
	v := b.Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return decodeMsg(id, v)
}

// Enqueue stores n durably unless it duplicates the last notification
// accepted for its group within the dedupe window. It returns after the
// transaction holding it has been fsync'd. All encoding happens on the
// caller's goroutine; the writer only checks dedupe and copies bytes.
func (s *Store) Enqueue(ctx context.Context, n *payload.Notification) (EnqueueResult, error) {
	groupID, key := n.GroupID(), n.DedupeKey()
	now := s.opts.Now()
	seq := s.seq.Add(1) // a duplicate leaves a gap in the sequence: harmless
	m := &Message{
		ID: fmt.Sprintf("%s-%012d", s.instance, seq), GroupID: groupID, DedupeKey: key,
		ReceivedAt: now, AgeFrom: now, NextAttempt: now, Notification: n,
	}
	val, err := encodeMsg(m)
	if err != nil {
		return EnqueueResult{}, err
	}
	dk := dueKey(now, m.ID)
	lk := make([]byte, 8, 8+len(groupID))
	binary.BigEndian.PutUint64(lk, uint64(now.UnixNano()))
	lk = append(lk, groupID...)
	lv := []byte(key + m.ID)
	var res EnqueueResult
	err = s.submit(ctx, func(tx *bolt.Tx) error {
		res = EnqueueResult{}
		if e, ok := s.lastAccepted(groupID); ok && e.key == key && now.UnixNano()-e.at < int64(s.opts.DedupeWindow) {
			res = EnqueueResult{ID: e.id, Duplicate: true}
			return nil
		}
		out, due, dd := tx.Bucket(bOutbox), tx.Bucket(bDue), tx.Bucket(bDedupe)
		// Keys are appended in order: pack pages instead of splitting them half full.
		out.FillPercent, due.FillPercent, dd.FillPercent = 0.95, 0.95, 0.95
		if seq > out.Sequence() {
			if err := out.SetSequence(seq); err != nil {
				return fmt.Errorf("persist sequence: %w", err)
			}
		}
		if err := out.Put([]byte(m.ID), val); err != nil {
			return fmt.Errorf("put message %s: %w", m.ID, err)
		}
		if err := due.Put(dk, nil); err != nil {
			return fmt.Errorf("schedule %s: %w", m.ID, err)
		}
		if err := dd.Put(lk, lv); err != nil {
			return fmt.Errorf("append dedupe log: %w", err)
		}
		s.pending[groupID] = ddEntry{at: now.UnixNano(), key: key, id: m.ID}
		res.ID = m.ID
		return nil
	}, func() {
		if !res.Duplicate {
			s.depth.Add(1)
		}
	})
	if err != nil {
		return EnqueueResult{}, fmt.Errorf("enqueue: %w", err)
	}
	return res, nil
}

// Due returns up to limit messages whose next attempt is at or before now,
// oldest schedule first, skipping ids in skip (in flight). It reads a
// snapshot and never holds more than limit messages in memory. Due keys
// that no longer match their message (left by a crash-free race or an old
// bug) are skipped and removed in the background.
func (s *Store) Due(now time.Time, limit int, skip func(id string) bool) ([]*Message, error) {
	var out []*Message
	var stale [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bOutbox)
		c := tx.Bucket(bDue).Cursor()
		end := now.UnixNano()
		for k, _ := c.First(); k != nil && len(out) < limit; k, _ = c.Next() {
			at := int64(binary.BigEndian.Uint64(k[:8]))
			if at > end {
				break
			}
			id := string(k[8:])
			v := ob.Get(k[8:])
			if v == nil || len(v) < 8 || schedOf(v) != at {
				stale = append(stale, bytes.Clone(k))
				continue
			}
			if skip != nil && skip(id) {
				continue
			}
			m, err := decodeMsg(id, v)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan due: %w", err)
	}
	if len(stale) > 0 {
		go s.dropStale(stale)
	}
	return out, nil
}

// dropStale deletes due keys that still do not match their message.
func (s *Store) dropStale(keys [][]byte) {
	_ = s.submit(context.Background(), func(tx *bolt.Tx) error {
		ob, due := tx.Bucket(bOutbox), tx.Bucket(bDue)
		for _, k := range keys {
			v := ob.Get(k[8:])
			if v != nil && len(v) >= 8 && schedOf(v) == int64(binary.BigEndian.Uint64(k[:8])) {
				continue // valid again
			}
			if err := due.Delete(k); err != nil {
				return fmt.Errorf("drop stale due key: %w", err)
			}
		}
		return nil
	}, nil)
}

// Current reports whether m (from Due) still matches the stored schedule:
// false means another attempt has already rescheduled, delivered or
// parked it, and m must not be sent.
func (s *Store) Current(m *Message) bool {
	ok := false
	_ = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bOutbox).Get([]byte(m.ID))
		ok = v != nil && len(v) >= 8 && schedOf(v) == m.NextAttempt.UnixNano()
		return nil
	})
	return ok
}

// NextDue is the earliest scheduled attempt, ok=false when the outbox is empty.
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

// Delivered removes a delivered message (as returned by Due) from the outbox.
func (s *Store) Delivered(ctx context.Context, m *Message) error {
	removed := false
	err := s.submit(ctx, func(tx *bolt.Tx) error {
		removed = false
		ob := tx.Bucket(bOutbox)
		v := ob.Get([]byte(m.ID))
		if v == nil {
			return nil // already gone: fine
		}
		// The stored schedule, not m's: m may be a stale copy.
		if err := tx.Bucket(bDue).Delete(dueKey(time.Unix(0, schedOf(v)), m.ID)); err != nil {
			return fmt.Errorf("unschedule %s: %w", m.ID, err)
		}
		if err := ob.Delete([]byte(m.ID)); err != nil {
			return fmt.Errorf("delete %s: %w", m.ID, err)
		}
		removed = true
		return nil
	}, func() {
		if removed {
			s.depth.Add(-1)
		}
	})
	if err != nil {
		return fmt.Errorf("mark %s delivered: %w", m.ID, err)
	}
	return nil
}

// Retry records a failed attempt of m (as returned by Due) and schedules
// the next one at next.
func (s *Store) Retry(ctx context.Context, m *Message, next time.Time, lastErr string) error {
	upd := *m
	upd.Attempts++
	upd.LastError = lastErr
	upd.NextAttempt = next
	val, err := encodeMsg(&upd)
	if err != nil {
		return err
	}
	oldKey, newKey := dueKey(m.NextAttempt, m.ID), dueKey(next, m.ID)
	err = s.submit(ctx, func(tx *bolt.Tx) error {
		ob, due := tx.Bucket(bOutbox), tx.Bucket(bDue)
		v := ob.Get([]byte(m.ID))
		if v == nil {
			return fmt.Errorf("%w: %s", ErrNotFound, m.ID)
		}
		if schedOf(v) != m.NextAttempt.UnixNano() {
			return nil // stale copy: another attempt already rescheduled it
		}
		if err := due.Delete(oldKey); err != nil {
			return fmt.Errorf("unschedule %s: %w", m.ID, err)
		}
		if err := due.Put(newKey, nil); err != nil {
			return fmt.Errorf("reschedule %s: %w", m.ID, err)
		}
		if err := ob.Put([]byte(m.ID), val); err != nil {
			return fmt.Errorf("put message %s: %w", m.ID, err)
		}
		return nil
	}, nil)
	if err != nil {
		return fmt.Errorf("retry %s: %w", m.ID, err)
	}
	return nil
}

// Bury moves m (as returned by Due) from the outbox to the dead letters.
func (s *Store) Bury(ctx context.Context, m *Message, lastErr string) error {
	upd := *m
	upd.Attempts++
	upd.LastError = lastErr
	upd.DeadAt = s.opts.Now()
	val, err := encodeMsg(&upd)
	if err != nil {
		return err
	}
	dk := dueKey(m.NextAttempt, m.ID)
	moved := false
	err = s.submit(ctx, func(tx *bolt.Tx) error {
		moved = false
		ob := tx.Bucket(bOutbox)
		v := ob.Get([]byte(m.ID))
		if v == nil {
			return fmt.Errorf("%w: %s", ErrNotFound, m.ID)
		}
		if schedOf(v) != m.NextAttempt.UnixNano() {
			return nil // stale copy: another attempt owns the message
		}
		if err := tx.Bucket(bDue).Delete(dk); err != nil {
			return fmt.Errorf("unschedule %s: %w", m.ID, err)
		}
		if err := ob.Delete([]byte(m.ID)); err != nil {
			return fmt.Errorf("delete %s: %w", m.ID, err)
		}
		if err := tx.Bucket(bDead).Put([]byte(m.ID), val); err != nil {
			return fmt.Errorf("put dead %s: %w", m.ID, err)
		}
		moved = true
		return nil
	}, func() {
		if moved {
			s.depth.Add(-1)
			s.dead.Add(1)
		}
	})
	if err != nil {
		return fmt.Errorf("bury %s: %w", m.ID, err)
	}
	return nil
}

// Pending returns the outbox message with this id.
func (s *Store) Pending(id string) (*Message, error) {
	var m *Message
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		m, err = getMsg(tx.Bucket(bOutbox), id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read pending %s: %w", id, err)
	}
	return m, nil
}

// Replay moves dead letters back to the outbox, due now, with their
// attempts and max age reset. Empty ids means all. Their ids (and so their
// Idempotency-Keys) are kept. It returns the ids re-queued.
func (s *Store) Replay(ctx context.Context, ids []string) ([]string, error) {
	var done []string
	err := s.submit(ctx, func(tx *bolt.Tx) error {
		done = done[:0]
		dead, ob, due := tx.Bucket(bDead), tx.Bucket(bOutbox), tx.Bucket(bDue)
		if len(ids) == 0 {
			if err := dead.ForEach(func(k, _ []byte) error { ids = append(ids, string(k)); return nil }); err != nil {
				return fmt.Errorf("list dead letters: %w", err)
			}
		}
		now := s.opts.Now()
		for _, id := range ids {
			m, err := getMsg(dead, id)
			if err != nil {
				return err
			}
			m.Attempts, m.AgeFrom, m.NextAttempt, m.DeadAt = 0, now, now, time.Time{}
			if err := putMsg(ob, m); err != nil {
				return err
			}
			if err := due.Put(dueKey(now, id), nil); err != nil {
				return fmt.Errorf("schedule %s: %w", id, err)
			}
			if err := dead.Delete([]byte(id)); err != nil {
				return fmt.Errorf("delete dead %s: %w", id, err)
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
func (s *Store) DeadLetters(limit int) ([]*Message, error) {
	var out []*Message
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bDead).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			m, err := decodeMsg(string(k), v)
			if err != nil {
				return err
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

// PruneDedupe drops dedupe log entries older than the window (from the
// front of the log) and forgets groups whose last entry is that old, so
// both stay proportional to the traffic of one window.
func (s *Store) PruneDedupe(ctx context.Context) (int, error) {
	n := 0
	var cutoff int64
	err := s.submit(ctx, func(tx *bolt.Tx) error {
		n = 0
		cutoff = s.opts.Now().Add(-s.opts.DedupeWindow).UnixNano()
		c := tx.Bucket(bDedupe).Cursor()
		for k, _ := c.First(); k != nil && len(k) >= 8 && int64(binary.BigEndian.Uint64(k[:8])) < cutoff; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return fmt.Errorf("prune dedupe log: %w", err)
			}
			n++
		}
		return nil
	}, func() {
		for g, e := range s.groups {
			if e.at < cutoff {
				delete(s.groups, g)
			}
		}
	})
	if err != nil {
		return 0, fmt.Errorf("prune dedupe: %w", err)
	}
	return n, nil
}
