package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := rootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	run(t, "gen", "--type", "alb", "--lines", "500", "--bad-every", "100", "--out", filepath.Join(in, "alb.log.gz"))
	run(t, "gen", "--type", "container", "--lines", "300", "--out", filepath.Join(in, "c.log"))
	lake := filepath.Join(dir, "lake")
	var rep map[string]any
	out := run(t, "ingest", "--json", "--quiet", "--out", lake, in)
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if rep["records"] != float64(795) || rep["quarantined"] != float64(5) || rep["files"].(float64) < 3 {
		t.Fatalf("%v", rep)
	}
	text := run(t, "ingest", "--quiet", "--type", "alb", "--out", lake, filepath.Join(in, "alb.log.gz"))
	// The same input again: recognised as committed, nothing written.
	if !strings.Contains(text, "records written: 0") || !strings.Contains(text, "inputs already committed: 1") {
		t.Fatalf("%s", text)
	}
	q := run(t, "query", "--lake", lake, "SELECT count(*) AS n FROM alb")
	if !strings.Contains(q, "495") {
		t.Fatalf("%s", q)
	}
	if all := run(t, "query", "--lake", lake, "--all"); !strings.Contains(all, "== container_errors_by_pod") {
		t.Fatalf("%s", all)
	}
	if l := run(t, "query", "--list"); !strings.Contains(l, "waf_blocked_by_rule") {
		t.Fatalf("%s", l)
	}
	// The same rows in one file per partition after compaction.
	if c := run(t, "compact", "--out", lake, "--source", "alb", "--retain", "1h"); !strings.Contains(c, `"table":"alb"`) || !strings.Contains(c, `"vacuum":{`) {
		t.Fatalf("%s", c)
	}
	if q := run(t, "query", "--lake", lake, "SELECT count(*) AS n, count(DISTINCT source_object) AS o FROM alb"); !strings.Contains(q, "495  1") {
		t.Fatalf("after compact: %s", q)
	}
	ddl := run(t, "ddl", "--location", "s3://b/lake")
	if strings.Count(ddl, "CREATE EXTERNAL TABLE") != 6 {
		t.Fatalf("%s", ddl)
	}
}

func TestCLIVPCFields(t *testing.T) {
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	format := "version srcaddr dstaddr srcport dstport protocol start end action log-status reject-reason"
	in := filepath.Join("testdata", "vpcflow", "vrl_v11-example_noheader.log")
	out := run(t, "ingest", "--json", "--quiet", "--type", "vpcflow", "--vpc-fields", format+" resource-id encryption-status interface-type", "--out", lake, in)
	if !strings.Contains(out, `"records":1,"quarantined":0`) {
		t.Fatalf("%s", out)
	}
	q := run(t, "query", "--lake", lake, "SELECT reject_reason, extra_fields FROM vpcflow")
	if !strings.Contains(q, "BPA") || !strings.Contains(q, "nat-0c50d5961bcb2d47b") {
		t.Fatalf("%s", q)
	}
}
