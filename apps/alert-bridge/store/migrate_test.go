package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// A file the second schema wrote (each group's pending sequences in a
// "gq" bucket, group records ending with the last error) opens with every
// group's pending states, schedule, attempts and error kept, and without
// the old bucket; new states then append behind the migrated ones.
func TestMigrateV2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	a, b := notif(t, "g-a", "firing", 0, 1), notif(t, "g-b", "firing", 0, 1)
	a2 := notif(t, "g-a", "resolved", 0, 1)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"meta", "msgs", "gq", "groups", "due", "dead", "deadidx", "dedupe"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		meta, msgs, gq, groups, due := tx.Bucket(bMeta), tx.Bucket(bMsgs), tx.Bucket(bGQV2), tx.Bucket(bGroups), tx.Bucket(bDue)
		if err := meta.Put([]byte("instance"), []byte("0123456789ab")); err != nil {
			return err
		}
		if err := meta.Put([]byte("schema"), []byte("2")); err != nil {
			return err
		}
		if err := msgs.SetSequence(3); err != nil {
			return err
		}
		for seq, n := range map[uint64]*payload.Notification{1: a, 2: b, 3: a2} {
			h := header{ID: fmt.Sprintf("0123456789ab-%012d", seq), ReceivedAt: at, AgeFrom: at, Notification: *n}
			v, err := encodeMsg(&h, n.Raw)
			if err != nil {
				return err
			}
			if err := putValue(msgs, seqKey(seq), v); err != nil {
				return err
			}
		}
		// g-a: two pending (1 then 3), two attempts failed; g-b: one.
		for g, seqs := range map[payload.Digest][]uint64{a.GroupID: {1, 3}, b.GroupID: {2}} {
			for _, seq := range seqs {
				if err := gq.Put(binary.BigEndian.AppendUint64(append([]byte(nil), g[:]...), seq), nil); err != nil {
					return err
				}
			}
		}
		v2 := func(next int64, attempts, superseded int, lastError string) []byte {
			v := make([]byte, 24)
			binary.BigEndian.PutUint64(v[0:], uint64(next))
			binary.BigEndian.PutUint32(v[8:], uint32(attempts))
			binary.BigEndian.PutUint32(v[12:], uint32(superseded))
			binary.BigEndian.PutUint64(v[16:], uint64(at.UnixNano()))
			return append(v, lastError...)
		}
		next := at.UnixNano()
		if err := groups.Put(a.GroupID[:], v2(next, 2, 1, "HTTP 503: down")); err != nil {
			return err
		}
		if err := groups.Put(b.GroupID[:], v2(next+1, 0, 0, "")); err != nil {
			return err
		}
		if err := due.Put(dueKey(next, a.GroupID), nil); err != nil {
			return err
		}
		return due.Put(dueKey(next+1, b.GroupID), nil)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	s := open(t, path, Options{Now: func() time.Time { return at.Add(time.Hour) }})
	if s.Depth() != 3 {
		t.Fatalf("depth %d after migration, want 3", s.Depth())
	}
	leases, _, err := s.Due(context.Background(), 10)
	if err != nil || len(leases) != 2 {
		t.Fatalf("due after migration: %d leases, %v; want 2", len(leases), err)
	}
	ma, mb := leases[0].Message(), leases[1].Message()
	if ma.ID != "0123456789ab-000000000003" || ma.Attempts != 2 || ma.LastError != "HTTP 503: down" || ma.Superseded != 2 || ma.Notification.Status != "resolved" {
		t.Errorf("group a leases %s attempts %d error %q superseded %d status %s; want its newest state, 3, with 2 attempts, the error and 2 superseded",
			ma.ID, ma.Attempts, ma.LastError, ma.Superseded, ma.Notification.Status)
	}
	if mb.ID != "0123456789ab-000000000002" || mb.Attempts != 0 || mb.Superseded != 0 {
		t.Errorf("group b leases %s attempts %d superseded %d; want 2, 0, 0", mb.ID, mb.Attempts, mb.Superseded)
	}
	for _, l := range leases {
		if err := l.Delivered(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if s.Depth() != 0 {
		t.Fatalf("depth %d after delivering both groups, want 0", s.Depth())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bGQV2) != nil {
			t.Error(`the schema 2 bucket "gq" is still there`)
		}
		if v := string(tx.Bucket(bMeta).Get([]byte("schema"))); v != "3" {
			t.Errorf("schema %q after migration, want 3", v)
		}
		if n := tx.Bucket(bGroups).Stats().KeyN; n != 0 {
			t.Errorf("%d group records left after every group was delivered", n)
		}
		return nil
	})
}

// A file from a newer schema is refused with the reason, not misread.
func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s := open(t, path, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put([]byte("schema"), []byte("4")) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), `schema "4"`) {
		t.Fatalf("Open of a schema 4 file: %v; want a refusal naming the schema", err)
	}
}
