package lake

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/log-shipper/gen"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// Twelve five-minute ALB files of one hour (how ELB delivers) are twelve
// small files in one partition; compaction makes them one, and an input
// that grows afterwards still replaces exactly its own rows.
func TestCompactThenReplace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	start := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	write := func(i, lines int) {
		o := gen.Options{Type: schema.ALB, Lines: lines, Seed: uint64(i + 1), Start: start.Add(time.Duration(i) * 5 * time.Minute), Span: 4 * time.Minute}
		if err := gen.WriteFile(filepath.Join(in, fmt.Sprintf("alb-%02d.log", i)), o); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 12 {
		write(i, 100)
	}
	st, _ := NewLocalStore(filepath.Join(dir, "lake"))
	ing := &Ingester{Store: st, Source: schema.ALB}
	inputs, _ := LocalInputs(in)
	if _, err := ing.Run(ctx, inputs); err != nil {
		t.Fatal(err)
	}
	if rows, files := committed(t, st, schema.ALB); rows != 1200 || files != 12 {
		t.Fatalf("before: %d rows in %d files", rows, files)
	}
	src, _ := schema.Lookup(schema.ALB)
	rep, err := ing.Compact(ctx, src, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if rep.FilesIn != 12 || rep.FilesOut != 1 || rep.Partitions != 1 {
		t.Fatalf("compaction %+v", rep)
	}
	if rows, files := committed(t, st, schema.ALB); rows != 1200 || files != 1 {
		t.Fatalf("after compaction: %d rows in %d files, want 1200 in 1", rows, files)
	}
	// Nothing left to compact; an unchanged input is still recognised.
	if rep, _ := ing.Compact(ctx, src, 64<<20); rep.FilesOut != 0 {
		t.Fatalf("second compaction %+v", rep)
	}
	if r, err := ing.Run(ctx, inputs); err != nil || r.Unchanged != 12 {
		t.Fatalf("rerun after compaction: %v, %d unchanged", err, r.Unchanged)
	}
	// alb-03 grows to 250 lines: its 100 rows leave the compacted file.
	write(3, 250)
	inputs, _ = LocalInputs(in)
	r, err := ing.Run(ctx, inputs)
	if err != nil || r.Replaced != 1 || r.Unchanged != 11 {
		t.Fatalf("grown input: %v %+v", err, r)
	}
	rows, files := committed(t, st, schema.ALB)
	if rows != 1350 || files != 2 {
		t.Fatalf("after the grown input: %d rows in %d files, want 1350 (11x100 + 250) in 2", rows, files)
	}
}
