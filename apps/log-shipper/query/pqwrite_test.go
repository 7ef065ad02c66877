package query

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/unsilo/unsilo/apps/log-shipper/pqwrite"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// TestDuckDBReadsPqwrite: DuckDB reads the writer's files, and its
// answers to filters (which it first checks against each row group's
// min/max, skipping row groups) equal the same counts in Go: statistics
// that were wrong would drop rows silently.
func TestDuckDBReadsPqwrite(t *testing.T) {
	src := &schema.Source{Name: "t", Columns: []schema.Column{
		{Name: "s", Kind: schema.String}, {Name: "i", Kind: schema.Int}, {Name: "b", Kind: schema.BigInt},
		{Name: "ts", Kind: schema.Timestamp}, {Name: "f", Kind: schema.Double}, {Name: "ok", Kind: schema.Bool},
	}}
	r := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	words := []string{"alpha", "beta", "gamma", "delta", "é-ü", ""}
	rows := make([][]schema.Value, n)
	for k := range rows {
		v := []schema.Value{
			schema.StringOf(words[r.IntN(len(words))]), schema.IntOf(int64(r.IntN(2000) - 1000)), schema.BigIntOf(int64(k) * 1_000_003),
			{Kind: schema.Timestamp, Int: 1_764_000_000_000_000 + int64(k)*1_000_000}, schema.DoubleOf(float64(r.IntN(100)) / 8), schema.BoolOf(k%3 == 0),
		}
		if k%11 == 0 {
			v[r.IntN(len(v))] = schema.Value{}
		}
		if k >= 9000 && k < 12000 { // a row group or so of long unique strings: the dictionary falls back
			v[0] = schema.StringOf(fmt.Sprintf("%070d", k))
		}
		rows[k] = v
	}
	path := filepath.Join(t.TempDir(), "t.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqwrite.New(f, src, pqwrite.Options{RowGroupRows: 2500, PageBytes: 8 << 10, DictionaryBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range rows {
		if err := w.Write(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	e, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	count := func(pred func(v []schema.Value) bool) int64 {
		var c int64
		for _, v := range rows {
			if pred(v) {
				c++
			}
		}
		return c
	}
	for _, tc := range []struct {
		where string
		want  int64
	}{
		{"true", n},
		{"s = 'gamma'", count(func(v []schema.Value) bool { return v[0].Kind != 0 && v[0].Str == "gamma" })},
		{"s = 'é-ü'", count(func(v []schema.Value) bool { return v[0].Kind != 0 && v[0].Str == "é-ü" })},
		{"s = '" + fmt.Sprintf("%070d", 10500) + "'", 1},
		{"s > '" + fmt.Sprintf("%070d", 11990) + "'", count(func(v []schema.Value) bool {
			return v[0].Kind != 0 && v[0].Str > fmt.Sprintf("%070d", 11990)
		})},
		{"s IS NULL", count(func(v []schema.Value) bool { return v[0].Kind == 0 })},
		{"i < -990", count(func(v []schema.Value) bool { return v[1].Kind != 0 && v[1].Int < -990 })},
		{"b BETWEEN 5000000000 AND 5100000000", count(func(v []schema.Value) bool {
			return v[2].Kind != 0 && v[2].Int >= 5_000_000_000 && v[2].Int <= 5_100_000_000
		})},
		{"ts >= TIMESTAMPTZ '2025-11-24 17:00:00+00'", count(func(v []schema.Value) bool {
			return v[3].Kind != 0 && v[3].Int >= 1_764_003_600_000_000
		})},
		{"f = 12.375", count(func(v []schema.Value) bool { return v[4].Kind != 0 && v[4].Float == 12.375 })},
		{"f > 12", count(func(v []schema.Value) bool { return v[4].Kind != 0 && v[4].Float > 12 })},
		{"ok", count(func(v []schema.Value) bool { return v[5].Kind != 0 && v[5].Int == 1 })},
	} {
		res, err := e.Query(context.Background(), fmt.Sprintf("SELECT count(*) FROM read_parquet('%s') WHERE %s", path, tc.where))
		if err != nil {
			t.Fatalf("%s: %v", tc.where, err)
		}
		if got := res.Rows[0][0].(int64); got != tc.want {
			t.Errorf("WHERE %s: DuckDB counts %d, Go %d", tc.where, got, tc.want)
		}
	}
}
