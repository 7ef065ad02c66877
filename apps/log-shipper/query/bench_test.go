package query

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unsilo/unsilo/contracts/lake/queries"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// albRows writes one Parquet file of n synthetic ALB records (every schema
// column, so the view reads it like an ingested file) with DuckDB itself:
// generating 10M rows through the parser would measure the parser.
func albRows(b *testing.B, lake string, n int) {
	b.Helper()
	alb, err := schema.Lookup("alb")
	if err != nil {
		b.Fatal(err)
	}
	special := map[string]string{
		"elb_status_code": "CAST(CASE WHEN i % 20 = 0 THEN 500 + i % 4 ELSE 200 END AS INTEGER)",
		"target_ip":       "'10.0.' || (i % 16) || '.' || (i % 251)",
		"target_port":     "CAST(8080 + i % 3 AS INTEGER)",
		"time":            "TIMESTAMPTZ '2026-11-28 10:00:00+00' + to_microseconds(i)",
	}
	var cols []string
	for _, c := range alb.Columns {
		expr, ok := special[c.Name]
		if !ok {
			expr = fmt.Sprintf("CAST(NULL AS %s)", duckType(c.Kind))
		}
		cols = append(cols, expr+" AS "+ident(c.Name))
	}
	dir := filepath.Join(lake, "source=alb", "dt=2026-11-28", "hour=10")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	e, err := Open(context.Background(), lake)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	q := fmt.Sprintf("COPY (SELECT %s FROM range(%d) t(i)) TO '%s' (FORMAT PARQUET, COMPRESSION ZSTD)",
		strings.Join(cols, ", "), n, filepath.Join(dir, "bench.parquet"))
	if _, err := e.db.ExecContext(context.Background(), q); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkGroupBy10M runs the named query alb_top_5xx_targets (a filtered
// GROUP BY) over 10M ALB rows; the target is under 2 s.
func BenchmarkGroupBy10M(b *testing.B) {
	const n = 10_000_000
	lake := b.TempDir()
	albRows(b, lake, n)
	q, err := queries.Get("alb_top_5xx_targets")
	if err != nil {
		b.Fatal(err)
	}
	e, err := Open(context.Background(), lake)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.ResetTimer()
	for b.Loop() {
		res, err := e.Query(context.Background(), q.SQL)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Rows) != 5 {
			b.Fatalf("%d rows, want the top 5", len(res.Rows))
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
