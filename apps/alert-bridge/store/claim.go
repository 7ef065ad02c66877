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

// Due claims up to max due groups, oldest schedule first, and returns a
// lease on each group's newest pending state (the older ones are
// superseded by it). wait is the time to the next scheduled group. A claimed group is not handed out again until its
// lease is settled.
//
// A scan reads a snapshot, which can be older than the commit that
// settled a lease (and moved or removed its due key). Each settled group
// remembers the commit count of its settlement; a scan that started
// before that commit skips the group, so a stale copy is never sent.
func (s *Store) Due(_ context.Context, max int) ([]outbox.Lease, time.Duration, error) {
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	start := s.commits.Load()
	for g, c := range s.released {
		if c <= start {
			delete(s.released, g)
		}
	}
	var out []outbox.Lease
	var stale [][]byte
	wait := time.Hour // nothing scheduled: Enqueue and Replay wake the deliverer
	now := s.opts.Now().UnixNano()
	err := s.db.View(func(tx *bolt.Tx) error {
		msgs, groups := tx.Bucket(bMsgs), tx.Bucket(bGroups)
		c := tx.Bucket(bDue).Cursor()
		for k, _ := c.First(); k != nil && len(out) < max; k, _ = c.Next() {
			at := int64(binary.BigEndian.Uint64(k[:8]))
			if at > now {
				wait = time.Duration(at - now)
				return nil
			}
			var g payload.Digest
			copy(g[:], k[8:])
			if s.inflight[g] || s.released[g] > start {
				continue
			}
			v := groups.Get(g[:])
			if v == nil {
				stale = append(stale, bytes.Clone(k))
				continue
			}
			rec, err := decodeGroup(v)
			if err != nil {
				return err
			}
			if rec.next != at {
				stale = append(stale, bytes.Clone(k))
				continue
			}
			seqs := rec.pending
			if len(seqs) == 0 {
				stale = append(stale, bytes.Clone(k))
				continue
			}
			latest := seqs[len(seqs)-1]
			mv := getValue(msgs, seqKey(latest))
			if mv == nil {
				return fmt.Errorf("group %s queues message %d, which is missing", g, latest)
			}
			size := int64(len(mv))
			if s.opts.Budget != nil && !s.opts.Budget.TryAcquire(size) {
				wait = 5 * time.Millisecond // bodies in flight hold the budget: soon
				return nil
			}
			m, err := toMessage(mv)
			unmap(mv)
			if err != nil {
				if s.opts.Budget != nil {
					s.opts.Budget.Release(size)
				}
				return fmt.Errorf("message %d: %w", latest, err)
			}
			m.Attempts, m.AgeFrom = rec.attempts, time.Unix(0, rec.ageFrom)
			m.Superseded, m.LastError = rec.superseded+len(seqs)-1, rec.lastError
			s.inflight[g] = true
			out = append(out, &lease{s: s, g: g, seq: latest, msg: m, size: size})
		}
		return nil
	})
	if len(stale) > 0 {
		go s.dropStale(stale)
	}
	if err != nil {
		for _, l := range out {
			l.Release()
		}
		return nil, time.Second, fmt.Errorf("scan due: %w", err)
	}
	return out, wait, nil
}

// dropStale deletes due keys that still match no group schedule.
func (s *Store) dropStale(keys [][]byte) {
	_ = s.submit(context.Background(), func(tx *bolt.Tx) error {
		due, groups := tx.Bucket(bDue), tx.Bucket(bGroups)
		for _, k := range keys {
			if v := groups.Get(k[8:]); v != nil {
				if rec, err := decodeGroup(v); err == nil && rec.next == int64(binary.BigEndian.Uint64(k[:8])) {
					if len(rec.pending) > 0 {
						continue // valid again
					}
					if err := groups.Delete(k[8:]); err != nil {
						return fmt.Errorf("drop empty group: %w", err)
					}
				}
			}
			if err := due.Delete(k); err != nil {
				return fmt.Errorf("drop stale due key: %w", err)
			}
		}
		return nil
	}, nil)
}

// lease is a claim on one group's newest pending state.
type lease struct {
	s       *Store
	g       payload.Digest
	seq     uint64
	msg     *outbox.Message
	size    int64
	settled bool
}

func (l *lease) Message() *outbox.Message { return l.msg }

// unclaim ends the claim (writer goroutine after a commit, or Release).
func (l *lease) unclaim() {
	if l.settled {
		return
	}
	l.settled = true
	l.s.claimMu.Lock()
	delete(l.s.inflight, l.g)
	l.s.released[l.g] = l.s.commits.Load()
	l.s.claimMu.Unlock()
	if l.s.opts.Budget != nil {
		l.s.opts.Budget.Release(l.size)
	}
}

func (l *lease) Release() { l.unclaim() }

func (l *lease) Delivered(ctx context.Context) error {
	removed := 0
	err := l.s.submit(ctx, func(tx *bolt.Tx) error {
		var err error
		removed, err = l.finish(tx)
		return err
	}, func() {
		l.s.depth.Add(-int64(removed))
		l.unclaim()
	})
	if err != nil {
		return fmt.Errorf("record delivery of %s: %w", l.msg.ID, err)
	}
	return nil
}

// finish removes the sent state and every older one of the group, and
// schedules what is left (a newer state that arrived meanwhile) now.
func (l *lease) finish(tx *bolt.Tx) (int, error) {
	groups := tx.Bucket(bGroups)
	v := groups.Get(l.g[:])
	if v == nil {
		return 0, nil // already settled by an earlier try of this call
	}
	rec, err := decodeGroup(v)
	if err != nil {
		return 0, err
	}
	removed := 0
	var left []uint64
	for _, seq := range rec.pending {
		if seq > l.seq {
			left = append(left, seq)
			continue
		}
		if err := deleteMsg(tx, seq); err != nil {
			return 0, err
		}
		removed++
	}
	if len(left) == 0 {
		if err := tx.Bucket(bDue).Delete(dueKey(rec.next, l.g)); err != nil {
			return 0, fmt.Errorf("unschedule group: %w", err)
		}
		if err := groups.Delete(l.g[:]); err != nil {
			return 0, fmt.Errorf("delete group: %w", err)
		}
		return removed, nil
	}
	now := l.s.opts.Now().UnixNano()
	next := group{next: rec.next, ageFrom: now, pending: left}
	return removed, l.s.reschedule(tx, l.g, &next, now)
}

func (l *lease) Retry(ctx context.Context, next time.Time, reason string) error {
	err := l.s.submit(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bGroups).Get(l.g[:])
		if v == nil {
			return nil
		}
		rec, err := decodeGroup(v)
		if err != nil {
			return err
		}
		rec.attempts = l.msg.Attempts + 1
		rec.lastError = reason
		return l.s.reschedule(tx, l.g, &rec, next.UnixNano())
	}, l.unclaim)
	if err != nil {
		return fmt.Errorf("record failed attempt of %s: %w", l.msg.ID, err)
	}
	return nil
}

func (l *lease) Bury(ctx context.Context, reason string) error {
	now := l.s.opts.Now()
	h := header{ID: l.msg.ID, ReceivedAt: l.msg.ReceivedAt, AgeFrom: l.msg.AgeFrom, Attempts: l.msg.Attempts + 1,
		Replayed: l.msg.Replayed, LastError: reason, DeadAt: now, Notification: l.msg.Notification}
	val, err := encodeMsg(&h, l.msg.Notification.Raw)
	if err != nil {
		return err
	}
	removed, added := 0, false
	err = l.s.submit(ctx, func(tx *bolt.Tx) error {
		var err error
		if removed, err = l.finish(tx); err != nil {
			return err
		}
		dead := tx.Bucket(bDead)
		added = getValue(dead, []byte(l.msg.ID)) == nil // an earlier try may have committed
		if err := putValue(dead, []byte(l.msg.ID), val); err != nil {
			return fmt.Errorf("put dead letter: %w", err)
		}
		return tx.Bucket(bDeadIdx).Put(append(be64(uint64(now.UnixNano())), l.msg.ID...), nil)
	}, func() {
		l.s.depth.Add(-int64(removed))
		if added {
			l.s.dead.Add(1)
		}
		l.unclaim()
	})
	if err != nil {
		return fmt.Errorf("park %s as a dead letter: %w", l.msg.ID, err)
	}
	return nil
}
