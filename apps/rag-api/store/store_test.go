package store

import (
	"path/filepath"
	"testing"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

func count(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	if err := s.Chunks(func(*doc.Chunk) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPutReplaceDeleteReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ix.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutFile("file:///a", "h1", []*doc.Chunk{{ID: "a#0", Text: "x"}, {ID: "a#1", Text: "y"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFile("file:///b", "h2", []*doc.Chunk{{ID: "b#0", Text: "z", Groups: []string{"hr"}}}); err != nil {
		t.Fatal(err)
	}
	// Replacing a file drops its old chunks.
	if err := s.PutFile("file:///a", "h3", []*doc.Chunk{{ID: "a#0", Text: "x2"}}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s); n != 2 {
		t.Fatalf("%d chunks after replace, want 2", n)
	}
	rec, ok, err := s.File("file:///a")
	if err != nil || !ok || rec.Hash != "h3" || len(rec.ChunkIDs) != 1 {
		t.Fatalf("%+v %v %v", rec, ok, err)
	}
	if err := s.DeleteFile("file:///a"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var got []*doc.Chunk
	_ = ro.Chunks(func(c *doc.Chunk) error { got = append(got, c); return nil })
	if len(got) != 1 || got[0].ID != "b#0" || got[0].Groups[0] != "hr" {
		t.Fatalf("%+v", got)
	}
	if err := ro.PutFile("file:///c", "h", nil); err == nil {
		t.Error("write to read-only store succeeded")
	}
	if _, err := OpenReadOnly(filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Error("opening a missing index read-only succeeded")
	}
}
