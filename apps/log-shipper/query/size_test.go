package query

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unsilo/unsilo/apps/log-shipper/gen"
	"github.com/unsilo/unsilo/apps/log-shipper/lake"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// ingestALB ingests n generated ALB lines (one input per million) into a
// local lake and returns the lake's Parquet bytes.
func ingestALB(tb testing.TB, root string, n int) int64 {
	tb.Helper()
	in := filepath.Join(root, "in")
	os.MkdirAll(in, 0o755)
	for i := 0; n > 0; i++ {
		lines := min(n, 1_000_000)
		n -= lines
		if err := gen.WriteFile(filepath.Join(in, fmt.Sprintf("alb-%02d.log.gz", i)), gen.Options{Type: schema.ALB, Lines: lines, Seed: uint64(i + 1)}); err != nil {
			tb.Fatal(err)
		}
	}
	inputs, err := lake.LocalInputs(in)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := lake.NewLocalStore(filepath.Join(root, "lake"))
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	if _, err := (&lake.Ingester{Store: st, Source: schema.ALB}).Run(context.Background(), inputs); err != nil {
		tb.Fatal(err)
	}
	return parquetBytes(tb, filepath.Join(root, "lake"))
}

func parquetBytes(tb testing.TB, dir string) int64 {
	var n int64
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && filepath.Ext(p) == ".parquet" {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// duckRewrite has DuckDB write the same rows (its defaults, ZSTD like the
// lake) and returns the bytes of its file.
func duckRewrite(tb testing.TB, e *Engine, out string) int64 {
	tb.Helper()
	if _, err := e.db.ExecContext(context.Background(), fmt.Sprintf("COPY (SELECT * EXCLUDE (source, account, in_region, dt, hour) FROM alb) TO '%s' (FORMAT PARQUET, COMPRESSION ZSTD)", out)); err != nil {
		tb.Fatal(err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// TestParquetNoLargerThanDuckDB: the lake's files for 200k generated ALB
// rows against DuckDB's own rewrite of the same rows (ZSTD both): no larger,
// dictionary pages on repeating strings and doubles, delta-packed int64s.
func TestParquetNoLargerThanDuckDB(t *testing.T) {
	root := t.TempDir()
	ours := ingestALB(t, root, 200_000)
	e, err := Open(context.Background(), filepath.Join(root, "lake"))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	duck := duckRewrite(t, e, filepath.Join(root, "duck.parquet"))
	t.Logf("lake %d bytes, DuckDB %d bytes (%.3f)", ours, duck, float64(ours)/float64(duck))
	if ours > duck {
		t.Errorf("lake files %d bytes > DuckDB's %d for the same rows", ours, duck)
	}
	glob := filepath.Join(root, "lake", "source=alb", "*", "*", "*", "*", "*.parquet")
	res, err := e.Query(context.Background(), fmt.Sprintf("SELECT path_in_schema, string_agg(DISTINCT encodings, ',') FROM parquet_metadata('%s') GROUP BY 1", glob))
	if err != nil {
		t.Fatal(err)
	}
	enc := map[string]string{}
	for _, r := range res.Rows {
		enc[r[0].(string)] = r[1].(string)
	}
	for col, want := range map[string]string{"elb": "RLE_DICTIONARY", "user_agent": "RLE_DICTIONARY", "target_processing_time": "RLE_DICTIONARY",
		"time": "DELTA_BINARY_PACKED", "sent_bytes": "DELTA_BINARY_PACKED"} {
		if !strings.Contains(enc[col], want) {
			t.Errorf("column %s encoded %q, want %s", col, enc[col], want)
		}
	}
}
