package lake

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

func TestVacuum(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	genFile(t, in, "alb.log", schema.ALB, 300, 0)
	st, _ := NewLocalStore(filepath.Join(dir, "lake"))
	ing := &Ingester{Store: st, Source: schema.ALB}
	inputs, _ := LocalInputs(in)
	ing.Run(ctx, inputs)
	genFile(t, in, "alb.log", schema.ALB, 600, 0) // grown: its first files are removed
	ing.Run(ctx, inputs)
	_, live := committed(t, st, schema.ALB)
	// A crash before a commit left an orphan; another run is writing one now.
	root := filepath.Join(dir, "lake", "source=alb", "account=unknown", "in_region=unknown", "dt=2026-11-28", "hour=10")
	old, young := filepath.Join(root, "part-dead-run.parquet"), filepath.Join(root, "part-in-flight.parquet")
	os.WriteFile(old, []byte("x"), 0o644)
	os.WriteFile(young, []byte("x"), 0o644)
	os.Chtimes(old, time.Now().Add(-3*time.Hour), time.Now().Add(-3*time.Hour))

	src, _ := schema.Lookup(schema.ALB)
	tbl := ing.Table(src)
	// Right after the replacement nothing removed is old enough.
	rep, err := ing.Vacuum(ctx, tbl, time.Hour)
	if err != nil || rep.Removed != 0 || rep.Orphans != 1 {
		t.Fatalf("vacuum now: %v %+v (only the 3 h old orphan goes)", err, rep)
	}
	if _, err := os.Stat(young); err != nil {
		t.Fatal("a file written a moment ago (an ingest about to commit) was deleted")
	}
	// Two hours later the replaced files go too, and the other file, now
	// two hours old and still not committed, is an orphan.
	tbl.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	rep, err = ing.Vacuum(ctx, tbl, time.Hour)
	if err != nil || rep.Removed == 0 || rep.Orphans != 1 {
		t.Fatalf("vacuum later: %v %+v", err, rep)
	}
	rows, files := committed(t, st, schema.ALB)
	if rows != 600 || files != live {
		t.Fatalf("after vacuum: %d rows in %d files, want 600 in %d", rows, files, live)
	}
}
