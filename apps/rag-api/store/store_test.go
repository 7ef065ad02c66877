package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

func chunks(src string, texts ...string) []*doc.Chunk {
	var out []*doc.Chunk
	for i, t := range texts {
		out = append(out, &doc.Chunk{ID: fmt.Sprintf("%s#%d", src, i), Source: src, Text: t, Public: true})
	}
	return out
}

func TestCommitReplaceSkipDeleteReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ix.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := "file:///d/a.md", "file:///d/b.md"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Commit([]Write{
		{Source: a, Record: &FileRecord{Hash: "h1", Public: true}, Chunks: chunks(a, "x", "y")},
		{Source: b, Record: &FileRecord{Hash: "h2"}, Chunks: chunks(b, "z")},
	}, SegmentChange{Manifest: []byte(`m1`), Put: map[uint64][]byte{1: []byte("seg1")}}))
	// Replacing a with one chunk drops its second; skipping b drops its chunk but keeps why.
	must(s.Commit([]Write{
		{Source: a, Record: &FileRecord{Hash: "h3", Public: true}, Chunks: chunks(a, "x2")},
		{Source: b, Record: &FileRecord{Hash: "h4", Skip: "pdf has no text"}, Chunks: chunks(b, "ignored")},
	}, SegmentChange{Manifest: []byte(`m2`), Put: map[uint64][]byte{2: []byte("seg2")}, Drop: []uint64{1}}))
	if c, _ := s.Chunk(a, 1); c != nil {
		t.Errorf("replaced file kept its old chunk 1: %+v", c)
	}
	if c, _ := s.Chunk(b, 0); c != nil {
		t.Errorf("skipped file kept its chunk: %+v", c)
	}
	rec, ok, err := s.File(b)
	if err != nil || !ok || rec.Skip != "pdf has no text" || rec.Chunks != 0 {
		t.Fatalf("skip record: %+v %v %v", rec, ok, err)
	}
	if err := s.Commit([]Write{{Source: a, Record: &FileRecord{}, Chunks: []*doc.Chunk{{ID: "wrong"}}}}, SegmentChange{}); err == nil {
		t.Error("chunk with a foreign id accepted")
	}
	srcs, _ := s.Sources("file:///d/")
	if !reflect.DeepEqual(srcs, []string{a, b}) {
		t.Errorf("sources: %v", srcs)
	}
	must(s.Commit([]Write{{Source: a}}, SegmentChange{}))
	s.Close()

	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, ok, _ := ro.File(a); ok {
		t.Error("deleted file still recorded")
	}
	err = ro.LoadIndex(func(m []byte, seg func(uint64) ([]byte, error)) error {
		if string(m) != "m2" {
			t.Errorf("manifest %q", m)
		}
		if b, err := seg(2); err != nil || string(b) != "seg2" {
			t.Errorf("segment 2: %q %v", b, err)
		}
		if _, err := seg(1); err == nil {
			t.Error("dropped segment still readable")
		}
		return nil
	})
	must(err)
	if err := ro.Commit([]Write{{Source: a, Record: &FileRecord{}}}, SegmentChange{}); err == nil {
		t.Error("write to read-only store succeeded")
	}
	if _, err := OpenReadOnly(filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Error("opening a missing index read-only succeeded")
	}
}

func TestOpenLockedAndOldFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ix.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); !errors.Is(err, ErrLocked) {
		t.Errorf("second writer: %v, want ErrLocked", err)
	}
	s.Close()
	// A file of an older format (no meta bucket, a v1 files bucket) is emptied.
	old := filepath.Join(t.TempDir(), "old.db")
	db, err := bolt.Open(old, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("files"))
		return b.Put([]byte("file:///x"), []byte(`{"hash":"h","chunk_ids":["x#0"]}`))
	})
	db.Close()
	if _, err := OpenReadOnly(old); err == nil {
		t.Error("read-only open of an old format succeeded")
	}
	s, err = Open(old)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Reset {
		t.Error("old format not reported as reset")
	}
	if srcs, _ := s.Sources(""); len(srcs) != 0 {
		t.Errorf("old records survived: %v", srcs)
	}
}
