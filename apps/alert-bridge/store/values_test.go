package store

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
)

// Messages over a page live in buckets of their own, small ones as plain
// values; both read back byte for byte, count in Depth after a reopen and
// leave nothing behind once delivered.
func TestLargeValuesOwnBucket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s := open(t, path, Options{})
	sizes := map[string]int{"small": 1, "large": 1000}
	for g, alerts := range sizes {
		enqueue(t, s, notif(t, g, "firing", 0, alerts))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, Options{})
	defer s.Close()
	if s.Depth() != 2 {
		t.Fatalf("depth after reopen %d, want 2", s.Depth())
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		msgs := tx.Bucket(bMsgs)
		own := map[bool]int{}
		c := msgs.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			own[v == nil && msgs.Bucket(k) != nil]++
		}
		if own[true] != 1 || own[false] != 1 {
			return fmt.Errorf("own buckets %d, plain values %d: want 1 and 1", own[true], own[false])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ls := due(t, s, 10)
	if len(ls) != 2 {
		t.Fatalf("%d leases, want 2", len(ls))
	}
	for _, l := range ls {
		m := l.Message()
		want := loadgen.Body(loadgen.Spec{Group: m.Notification.GroupKey, Alerts: sizes[m.Notification.GroupKey]})
		if !bytes.Equal(m.Notification.Raw, want) {
			t.Fatalf("group %s: body of %d bytes, sent %d", m.Notification.GroupKey, len(m.Notification.Raw), len(want))
		}
		if err := l.Delivered(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bMsgs).Cursor().First(); k != nil {
			return fmt.Errorf("message %x left after delivery", k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A file of an older version holds large messages as plain values: they
// are read and deleted like the new form, and rewriting one (a dead
// letter parked again) moves it to a bucket of its own.
func TestLargePlainValueOfOlderFile(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{})
	defer s.Close()
	big := bytes.Repeat([]byte("x"), 1<<20)
	k := seqKey(7)
	err := s.db.Update(func(tx *bolt.Tx) error {
		msgs := tx.Bucket(bMsgs)
		if err := msgs.Put(k, big); err != nil { // as an older version wrote it
			return err
		}
		if !bytes.Equal(getValue(msgs, k), big) || msgs.Bucket(k) != nil {
			return fmt.Errorf("plain value not read as one")
		}
		if err := putValue(msgs, k, append(big, 'y')); err != nil {
			return err
		}
		if msgs.Get(k) != nil || msgs.Bucket(k) == nil || len(getValue(msgs, k)) != len(big)+1 {
			return fmt.Errorf("rewritten value not in a bucket of its own")
		}
		if err := deleteValue(msgs, k); err != nil {
			return err
		}
		if getValue(msgs, k) != nil {
			return fmt.Errorf("value left after delete")
		}
		if err := msgs.Put(k, big); err != nil {
			return err
		}
		if err := deleteValue(msgs, k); err != nil || getValue(msgs, k) != nil {
			return fmt.Errorf("plain value not deleted: %v", err)
		}
		return deleteValue(msgs, k) // missing: not an error
	})
	if err != nil {
		t.Fatal(err)
	}
}
