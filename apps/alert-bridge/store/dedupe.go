package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"

	bolt "go.etcd.io/bbolt"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// dedupeIndex is the last accepted notification per group, in memory, on
// top of the dedupe log in bbolt. Entries are fixed-size (no strings), so
// a group costs its map slot: about 100 bytes. Owned by the writer
// goroutine: begin/commit/abort bracket each write transaction so a
// rolled-back batch leaves no trace.
type dedupeIndex struct {
	max     int
	groups  map[payload.Digest]ddEntry // committed
	pending map[payload.Digest]ddEntry // written by the running transaction
}

type ddEntry struct {
	at  int64 // unix ns
	key payload.Digest
	seq uint64
}

func newDedupeIndex(max int) *dedupeIndex {
	return &dedupeIndex{max: max, groups: map[payload.Digest]ddEntry{}, pending: map[payload.Digest]ddEntry{}}
}

// Log records: key be64(at) || gid(16), value dedupeKey(16) || be64(seq).
func ddLogKey(at int64, g payload.Digest) []byte { return append(be64(uint64(at)), g[:]...) }

func ddLogVal(e ddEntry) []byte {
	return append(append(make([]byte, 0, 24), e.key[:]...), be64(e.seq)...)
}

func parseDDLog(k, v []byte) (payload.Digest, ddEntry, bool) {
	var g payload.Digest
	var e ddEntry
	if len(k) != 8+len(g) || len(v) != len(e.key)+8 {
		return g, e, false
	}
	copy(g[:], k[8:])
	e.at = int64(binary.BigEndian.Uint64(k[:8]))
	copy(e.key[:], v[:16])
	e.seq = binary.BigEndian.Uint64(v[16:])
	return g, e, true
}

func (d *dedupeIndex) load(b *bolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		if g, e, ok := parseDDLog(k, v); ok {
			d.groups[g] = e // the log is in time order: the last entry wins
		}
		return nil
	})
}

func (d *dedupeIndex) begin()  { clear(d.pending) }
func (d *dedupeIndex) abort()  { clear(d.pending) }
func (d *dedupeIndex) commit() { maps.Copy(d.groups, d.pending); clear(d.pending) }

func (d *dedupeIndex) last(g payload.Digest) (ddEntry, bool) {
	if e, ok := d.pending[g]; ok {
		return e, true
	}
	e, ok := d.groups[g]
	return e, ok
}

func (d *dedupeIndex) accept(tx *bolt.Tx, g payload.Digest, e ddEntry) error {
	b := tx.Bucket(bDedupe)
	b.FillPercent = 0.95 // appended in time order: pack pages
	if err := b.Put(ddLogKey(e.at, g), ddLogVal(e)); err != nil {
		return fmt.Errorf("append dedupe log: %w", err)
	}
	d.pending[g] = e
	return nil
}

// DedupeGroups is the number of groups the dedupe index remembers.
func (s *Store) DedupeGroups() int {
	n := make(chan int, 1)
	if err := s.submit(context.Background(), func(*bolt.Tx) error { n <- len(s.dd.groups); return nil }, nil); err != nil {
		return -1
	}
	return <-n
}

// PruneDedupe drops dedupe log entries older than the window, and the
// oldest beyond DedupeMaxGroups, from the front of the log, and forgets
// the groups whose last entry they were. Forgetting early costs at most
// one extra delivery of an HA copy; it never loses a notification.
func (s *Store) PruneDedupe(ctx context.Context) (int, error) {
	n := 0
	var drop []payload.Digest
	var dropAt []int64
	err := s.submit(ctx, func(tx *bolt.Tx) error {
		n, drop, dropAt = 0, drop[:0], dropAt[:0]
		cutoff := s.opts.Now().Add(-s.opts.DedupeWindow).UnixNano()
		excess := len(s.dd.groups) - s.dd.max
		c := tx.Bucket(bDedupe).Cursor()
		for k, v := c.First(); k != nil; k, v = c.First() {
			g, e, ok := parseDDLog(k, v)
			if ok && e.at >= cutoff && excess <= 0 {
				break
			}
			if err := c.Delete(); err != nil {
				return fmt.Errorf("prune dedupe log: %w", err)
			}
			n++
			if ok {
				if cur, has := s.dd.groups[g]; has && cur.at == e.at {
					drop, dropAt = append(drop, g), append(dropAt, e.at)
					excess--
				}
			}
		}
		return nil
	}, func() {
		for i, g := range drop {
			if cur, ok := s.dd.groups[g]; ok && cur.at == dropAt[i] {
				delete(s.dd.groups, g)
			}
		}
	})
	if err != nil {
		return 0, fmt.Errorf("prune dedupe: %w", err)
	}
	return n, nil
}
