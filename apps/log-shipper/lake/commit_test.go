package lake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/log-shipper/delta"
	"github.com/unsilo/unsilo/apps/log-shipper/gen"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// fullDisk fails every Put after the first n, as ENOSPC would.
type fullDisk struct {
	Store
	mu sync.Mutex
	n  int
}

func (f *fullDisk) Put(ctx context.Context, key, staged string) error {
	f.mu.Lock()
	f.n--
	left := f.n
	f.mu.Unlock()
	if left < 0 {
		os.Remove(staged)
		return fmt.Errorf("move %s into place: %w", key, syscall.ENOSPC)
	}
	return f.Store.Put(ctx, key, staged)
}

// committed reads back every row of a table's latest commit, the way the
// DuckDB views and Athena see the table.
func committed(t *testing.T, st Store, source string) (rows int, files int) {
	t.Helper()
	src, _ := schema.Lookup(source)
	tbl := delta.NewTable(st, src)
	snap, err := tbl.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range snap.Paths() {
		b, err := st.Get(context.Background(), tbl.Root+p)
		if err != nil {
			t.Fatalf("committed file missing: %v", err)
		}
		recs, err := ReadFile(bytes.NewReader(b), int64(len(b)), src)
		if err != nil {
			t.Fatal(err)
		}
		rows += len(recs)
	}
	return rows, len(snap.Files)
}

// spread writes an ALB file whose lines cover 48 hourly partitions.
func spread(t *testing.T, path string, lines int) {
	t.Helper()
	var b bytes.Buffer
	if err := gen.Write(&b, gen.Options{Type: schema.ALB, Lines: lines, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	out := &bytes.Buffer{}
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		f := strings.SplitN(l, " ", 3)
		ts := base.Add(time.Duration(i%48) * time.Hour).Format("2006-01-02T15:04:05.000000Z")
		fmt.Fprintf(out, "%s %s %s\n", f[0], ts, f[2])
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInputVisibleWholeOrNotAtAll(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	spread(t, filepath.Join(in, "alb.log"), 4800)
	inputs, _ := LocalInputs(in)
	base, _ := NewLocalStore(filepath.Join(dir, "lake"))
	// The disk fills after 20 of the 48 partition files.
	full := &fullDisk{Store: base, n: 20}
	rep, err := (&Ingester{Store: full, Source: schema.ALB}).Run(ctx, inputs)
	if !errors.Is(err, ErrInputsFailed) || len(rep.Failed) != 1 || !strings.Contains(rep.Failed[0].Error, "no space left") {
		t.Fatalf("want the input reported as failed with ENOSPC: %v %+v", err, rep.Failed)
	}
	if rows, files := committed(t, base, schema.ALB); rows != 0 || files != 0 {
		t.Fatalf("a failed input is partly visible: %d rows in %d files", rows, files)
	}
	// The rerun (disk freed) commits all 48 partitions in one entry.
	rep, err = (&Ingester{Store: base, Source: schema.ALB}).Run(ctx, inputs)
	if err != nil || rep.Records != 4800 {
		t.Fatalf("rerun: %v %+v", err, rep)
	}
	if rows, files := committed(t, base, schema.ALB); rows != 4800 || files != 48 {
		t.Fatalf("after rerun: %d rows in %d files, want 4800 in 48", rows, files)
	}
	logs, _ := base.List(ctx, "source=alb/"+delta.LogDir)
	if len(logs) != 1 {
		t.Fatalf("want one commit, got %v", logs)
	}
}

func TestGrownInputReplacesItsRows(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "in", "app.log")
	os.MkdirAll(filepath.Dir(p), 0o755)
	var b bytes.Buffer
	gen.Write(&b, gen.Options{Type: schema.ALB, Lines: 2000, Seed: 5})
	lines := strings.SplitAfter(b.String(), "\n")
	st, _ := NewLocalStore(filepath.Join(dir, "lake"))
	ing := &Ingester{Store: st, Source: schema.ALB}
	cases := []struct {
		content   string
		rows      int
		replaces  bool
		unchanged int
		reason    string
	}{
		{strings.Join(lines[:1000], ""), 1000, false, 0, "first version"},
		{strings.Join(lines[:2000], ""), 2000, true, 0, "grown to 2000 lines: replaces, 2000 rows not 3000"},
		{strings.Join(lines[:2000], ""), 2000, false, 1, "same bytes again: nothing committed"},
		{strings.Join(lines[500:1500], ""), 1000, true, 0, "rewritten with other lines"},
	}
	for _, tc := range cases {
		os.WriteFile(p, []byte(tc.content), 0o644)
		inputs, _ := LocalInputs(filepath.Dir(p))
		rep, err := ing.Run(ctx, inputs)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := committed(t, st, schema.ALB)
		if rows != tc.rows || (rep.Replaced > 0) != tc.replaces || rep.Unchanged != tc.unchanged {
			t.Errorf("%s: %d rows, %d files replaced, %d unchanged; want %d, replaces=%v, %d", tc.reason, rows, rep.Replaced, rep.Unchanged, tc.rows, tc.replaces, tc.unchanged)
		}
	}
}

func TestPerInputProblemsDoNotStopTheRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	genFile(t, in, "a-alb.log", schema.ALB, 300, 0)
	genFile(t, in, "b-big-alb.log", schema.ALB, 3000, 0)
	wafLines, _ := os.ReadFile("../testdata/waf/awsdocs_examples_compacted.jsonl")
	os.WriteFile(filepath.Join(in, "c-waf-as-container.log"), wafLines, 0o644)
	digest := `{"awsAccountId":"111122223333","digestStartTime":"2026-11-28T10:00:00Z","digestEndTime":"2026-11-28T11:00:00Z","logFiles":[]}`
	os.WriteFile(filepath.Join(in, "d_CloudTrail-Digest_x.json"), []byte(digest), 0o644)
	inputs, _ := LocalInputs(in)
	inputs = append(inputs, Input{Name: "e-net", Base: "e-net", Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(&failingReader{n: 1000}), nil
	}})
	st, _ := NewLocalStore(filepath.Join(dir, "lake"))
	big, _ := os.Stat(filepath.Join(in, "b-big-alb.log"))
	ing := &Ingester{Store: st, Source: "auto", MaxInputBytes: big.Size() - 1}
	rep, err := ing.Run(ctx, inputs)
	if !errors.Is(err, ErrInputsFailed) {
		t.Fatalf("want ErrInputsFailed, got %v", err)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].Input != "e-net" {
		t.Errorf("failed: %+v (only the unreadable input fails)", rep.Failed)
	}
	if rep.BySource["alb"] != 300 || rep.BySource["waf"] == 0 || rep.Digests != 1 {
		t.Errorf("records %v digests %d: the small ALB file and the WAF file are ingested, the digest recognised", rep.BySource, rep.Digests)
	}
	var over bool
	for r := range rep.Reasons {
		over = over || strings.Contains(r, "over the N-byte limit")
	}
	if !over || rep.Quarantined != 1 {
		t.Errorf("quarantine reasons %v (%d): want the big input over the limit", rep.Reasons, rep.Quarantined)
	}
	// The same WAF file forced to --type container is refused whole.
	waf, _ := LocalInputs(filepath.Join(in, "c-waf-as-container.log"))
	rep, err = (&Ingester{Store: st, Source: schema.Container}).Run(ctx, waf)
	if err != nil || rep.Records != 0 || rep.Quarantined != 1 {
		t.Fatalf("WAF under --type container: %v %+v", err, rep)
	}
	for r := range rep.Reasons {
		if !strings.Contains(r, "content is waf, not container") {
			t.Errorf("reason %q", r)
		}
	}
}

// A CloudTrail file over the document limit is quarantined whole with the
// reason, and the small one beside it is ingested.
func TestDocumentOverLimitQuarantinedWhole(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	genFile(t, in, "big.json", schema.CloudTrail, 200, 0)
	small, _ := os.ReadFile("../testdata/cloudtrail/awsdocs_ec2-StartInstances.json")
	os.WriteFile(filepath.Join(in, "small.json"), small, 0o644)
	inputs, _ := LocalInputs(in)
	st, _ := NewLocalStore(filepath.Join(dir, "lake"))
	rep, err := (&Ingester{Store: st, Source: schema.CloudTrail, MaxDocumentBytes: int64(len(small)) + 10}).Run(ctx, inputs)
	if err != nil || rep.Quarantined != 1 || rep.Records != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	for r := range rep.Reasons {
		if !strings.Contains(r, "JSON document larger than") || !strings.Contains(r, "quarantined whole") {
			t.Errorf("reason %q", r)
		}
	}
	if rows, _ := committed(t, st, schema.CloudTrail); rows != 1 {
		t.Fatalf("%d rows committed: the big file must add none", rows)
	}
}

// Two writers (two processes' tables over one lake) committing at once:
// every commit lands in its own version, none is lost.
func TestConcurrentCommitsSerialise(t *testing.T) {
	ctx := context.Background()
	st, _ := NewLocalStore(t.TempDir())
	src, _ := schema.Lookup(schema.ALB)
	tables := []*delta.Table{delta.NewTable(st, src), delta.NewTable(st, src)}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := tables[i%2].Commit(ctx, func(*delta.Snapshot) ([]delta.Action, error) {
				return []delta.Action{{Add: &delta.Add{Path: fmt.Sprintf("dt=2026-11-28/hour=00/f%02d.parquet", i), DataChange: true}}}, nil
			}, nil)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	snap, err := delta.Load(ctx, st, "source=alb/")
	if err != nil || snap.Version != 39 || len(snap.Files) != 40 {
		t.Fatalf("version %d, %d files, %v: want 39 and 40", snap.Version, len(snap.Files), err)
	}
}

// Partitions by account and region: from the record's own columns (VPC
// account-id and region, a WAF ACL's ARN), else the AWS delivery key, else
// unknown.
func TestAccountRegionPartitions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, _ := NewLocalStore(filepath.Join(dir, "lake"))
	alb := genFile(t, dir, "alb.log", schema.ALB, 50, 0)
	file := func(name, path string) Input {
		return Input{Name: name, Base: filepath.Base(path), Open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) }}
	}
	inputs := []Input{
		file("s3://raw/alb/AWSLogs/123456789012/elasticloadbalancing/ap-northeast-2/2026/11/28/a.log", alb),
		file(alb, alb),
		file("s3://raw/vpcflow/v5.log", "../testdata/vpcflow/awsdocs_v5-traffic-path_with-header.log"),
		file("waf.jsonl", "../testdata/waf/awsdocs_examples_compacted.jsonl"),
	}
	rep, err := (&Ingester{Store: st, Source: "auto"}).Run(ctx, inputs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"source=alb/account=123456789012/in_region=ap-northeast-2/":     "the ELB delivery key",
		"source=alb/account=unknown/in_region=unknown/":                 "a local file says nothing",
		"source=vpcflow/account=123456789012/in_region=ap-southeast-2/": "the v5 record's account-id and region",
	}
	for prefix, reason := range want {
		found := false
		for _, o := range rep.Objects {
			found = found || strings.HasPrefix(o, prefix)
		}
		if !found {
			t.Errorf("no object under %s (%s): %v", prefix, reason, rep.Objects)
		}
	}
	for _, o := range rep.Objects {
		if strings.HasPrefix(o, "source=waf/") && strings.Contains(o, "account=unknown") {
			t.Errorf("WAF records carry their ACL's ARN: %s", o)
		}
	}
}
