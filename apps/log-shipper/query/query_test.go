package query

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/unsilo/unsilo/apps/log-shipper/gen"
	"github.com/unsilo/unsilo/apps/log-shipper/lake"
	"github.com/unsilo/unsilo/apps/log-shipper/parse"
	"github.com/unsilo/unsilo/contracts/lake/queries"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// row is one expected answer row, rendered like the DuckDB result.

// agg groups records by key and keeps counters per group.
type group struct {
	key  []any
	vals []int64
}

func groupBy(recs []schema.Record, s *schema.Source, keep func(get func(string) any) bool, keyCols []string, sums func(get func(string) any) []int64) []*group {
	m := map[string]*group{}
	var order []string
	for _, r := range recs {
		get := func(c string) any { return r.Values[s.MustIndex(c)].Any() }
		if !keep(get) {
			continue
		}
		var key []any
		for _, c := range keyCols {
			key = append(key, get(c))
		}
		k := fmt.Sprint(key...)
		g, ok := m[k]
		if !ok {
			g = &group{key: key}
			m[k] = g
			order = append(order, k)
		}
		add := sums(get)
		if g.vals == nil {
			g.vals = make([]int64, len(add))
		}
		for i, v := range add {
			g.vals[i] += v
		}
	}
	out := make([]*group, 0, len(order))
	for _, k := range order {
		out = append(out, m[k])
	}
	return out
}

func less(a, b any) bool {
	switch x := a.(type) {
	case string:
		return x < b.(string)
	case int64:
		return x < b.(int64)
	}
	return fmt.Sprint(a) < fmt.Sprint(b)
}

// sortGroups orders by vals[by] desc, then keys asc; limit 0 = all.
func sortGroups(gs []*group, by int, limit int) []*group {
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].vals[by] != gs[j].vals[by] {
			return gs[i].vals[by] > gs[j].vals[by]
		}
		for k := range gs[i].key {
			if gs[i].key[k] != gs[j].key[k] {
				return less(gs[i].key[k], gs[j].key[k])
			}
		}
		return false
	})
	if limit > 0 && len(gs) > limit {
		gs = gs[:limit]
	}
	return gs
}

func render(gs []*group) []string {
	var out []string
	for _, g := range gs {
		var parts []string
		for _, k := range g.key {
			parts = append(parts, fmt.Sprint(k))
		}
		for _, v := range g.vals {
			parts = append(parts, fmt.Sprint(v))
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func one(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// expected computes each named query's answer in Go from parsed records.
func expected(recs map[string][]schema.Record, src map[string]*schema.Source) map[string][]string {
	all := func(func(string) any) bool { return true }
	_ = all
	out := map[string][]string{}
	out["alb_top_5xx_targets"] = render(sortGroups(groupBy(recs["alb"], src["alb"], func(g func(string) any) bool {
		st, _ := g("elb_status_code").(int64)
		return st >= 500 && st <= 599 && g("target_ip") != nil
	}, []string{"target_ip", "target_port"}, func(func(string) any) []int64 { return []int64{1} }), 0, 5))
	out["vpcflow_rejected_by_source"] = render(sortGroups(groupBy(recs["vpcflow"], src["vpcflow"], func(g func(string) any) bool {
		return g("action") == "REJECT"
	}, []string{"srcaddr"}, func(g func(string) any) []int64 { p, _ := g("packets").(int64); return []int64{1, p} }), 0, 10))
	out["waf_blocked_by_rule"] = render(sortGroups(groupBy(recs["waf"], src["waf"], func(g func(string) any) bool {
		return g("action") == "BLOCK"
	}, []string{"terminating_rule_id"}, func(func(string) any) []int64 { return []int64{1} }), 0, 0))
	logins := groupBy(recs["cloudtrail"], src["cloudtrail"], func(g func(string) any) bool {
		return g("event_name") == "ConsoleLogin"
	}, []string{"user_name"}, func(g func(string) any) []int64 {
		return []int64{one(g("console_login") == "Success"), one(g("console_login") == "Failure")}
	})
	out["cloudtrail_console_logins"] = render(sortGroups(logins, 1, 0))
	out["cloudtrail_errors_by_user"] = render(sortGroups(groupBy(recs["cloudtrail"], src["cloudtrail"], func(g func(string) any) bool {
		return g("error_code") != nil
	}, []string{"user_name", "error_code"}, func(func(string) any) []int64 { return []int64{1} }), 0, 10))
	out["cloudfront_top_uris_by_bytes"] = render(sortGroups(groupBy(recs["cloudfront"], src["cloudfront"], func(func(string) any) bool { return true },
		[]string{"cs_uri_stem"}, func(g func(string) any) []int64 { b, _ := g("sc_bytes").(int64); return []int64{b, 1} }), 0, 5))
	out["container_errors_by_pod"] = render(sortGroups(groupBy(recs["container"], src["container"], func(g func(string) any) bool {
		switch g("level") {
		case "ERROR", "CRITICAL", "FATAL", "PANIC":
			return true
		}
		return false
	}, []string{"namespace", "pod"}, func(func(string) any) []int64 { return []int64{1} }), 0, 0))
	return out
}

func TestNamedQueriesMatchGo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lines := 4000
	if testing.Short() {
		lines = 800
	}
	recs := map[string][]schema.Record{}
	srcs := map[string]*schema.Source{}
	var inputs []lake.Input
	for _, name := range schema.Names() {
		p := filepath.Join(dir, "in", name+".log")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := gen.WriteFile(p, gen.Options{Type: name, Lines: lines, Seed: 42, BadEvery: 97}); err != nil {
			t.Fatal(err)
		}
		ps, _ := parse.New(name)
		f, _ := os.Open(p)
		c := &parse.Collect{}
		if err := ps.Parse(ctx, f, p, c); err != nil {
			t.Fatal(err)
		}
		f.Close()
		recs[name], srcs[name] = c.Records, ps.Source()
		in, err := lake.LocalInputs(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, in...)
	}
	st, err := lake.NewLocalStore(filepath.Join(dir, "lake"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&lake.Ingester{Store: st, Source: "auto"}).Run(ctx, inputs); err != nil {
		t.Fatal(err)
	}
	eng, err := Open(ctx, st.Root)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	want := expected(recs, srcs)
	qs, err := queries.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != len(want) {
		t.Fatalf("%d named queries, %d expectations", len(qs), len(want))
	}
	for _, q := range qs {
		t.Run(q.Name, func(t *testing.T) {
			res, err := eng.Query(ctx, q.SQL)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Rows {
				var parts []string
				for _, v := range r {
					parts = append(parts, fmt.Sprint(v))
				}
				got = append(got, strings.Join(parts, "|"))
			}
			w, ok := want[q.Name]
			if !ok {
				t.Fatalf("no Go expectation for %s", q.Name)
			}
			if len(w) == 0 {
				t.Fatalf("expectation is empty: the generated data does not exercise %s", q.Name)
			}
			if strings.Join(got, "\n") != strings.Join(w, "\n") {
				t.Fatalf("DuckDB:\n%s\nGo:\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
			}
		})
	}
	// The Parquet files carry the types the schema promises, read back by
	// DuckDB's own reader (an independent implementation).
	physical := map[schema.Kind][2]string{
		schema.String: {"BYTE_ARRAY", "UTF8"}, schema.Int: {"INT32", "INT_32"}, schema.BigInt: {"INT64", "INT_64"},
		schema.Double: {"DOUBLE", "<nil>"}, schema.Bool: {"BOOLEAN", "<nil>"}, schema.Timestamp: {"INT64", "TIMESTAMP_MICROS"},
	}
	for name, s := range srcs {
		files, _ := filepath.Glob(filepath.Join(st.Root, "source="+name, "*", "*", "*", "*", "*.parquet"))
		if len(files) == 0 {
			t.Fatalf("no parquet for %s", name)
		}
		res, err := eng.Query(ctx, fmt.Sprintf("SELECT name, type, converted_type, repetition_type FROM parquet_schema('%s') WHERE type IS NOT NULL", files[0]))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != len(s.Columns) {
			t.Fatalf("%s: %d parquet columns, schema has %d", name, len(res.Rows), len(s.Columns))
		}
		for _, r := range res.Rows {
			c := s.Columns[s.MustIndex(fmt.Sprint(r[0]))]
			want := physical[c.Kind]
			if fmt.Sprint(r[1]) != want[0] || fmt.Sprint(r[2]) != want[1] || fmt.Sprint(r[3]) != "OPTIONAL" {
				t.Errorf("%s.%s: parquet %v, schema says %s", name, c.Name, r[1:], c.ParquetType())
			}
		}
	}
	// Every record is visible through its view, with partitions.
	for name, rs := range recs {
		res, err := eng.Query(ctx, fmt.Sprintf("SELECT count(*), count(DISTINCT source), min(hour), min(dt) FROM %s WHERE dt = '2026-11-28' AND hour >= '10'", name))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(res.Rows[0][0]) != fmt.Sprint(len(rs)) || fmt.Sprint(res.Rows[0][1]) != "1" || res.Rows[0][2] != "10" || res.Rows[0][3] != "2026-11-28" {
			t.Errorf("%s: %v rows, want %d", name, res.Rows[0], len(rs))
		}
	}
}

func TestEmptyLakeViews(t *testing.T) {
	eng, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	qs, _ := queries.All()
	for _, q := range qs {
		res, err := eng.Query(context.Background(), q.SQL)
		if err != nil || len(res.Rows) != 0 {
			t.Fatalf("%s on an empty lake: %v %v", q.Name, res, err)
		}
	}
}
