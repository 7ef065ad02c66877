package lake

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/unsilo/unsilo/apps/log-shipper/delta"
	"github.com/unsilo/unsilo/apps/log-shipper/gen"
	"github.com/unsilo/unsilo/apps/log-shipper/parse"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

func genFile(t testing.TB, dir, name, typ string, lines, badEvery int) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := gen.WriteFile(p, gen.Options{Type: typ, Lines: lines, Seed: 1, BadEvery: badEvery}); err != nil {
		t.Fatal(err)
	}
	return p
}

// tree maps every file under root (except staging) to its content.
func tree(t *testing.T, root string) map[string]string { return files(t, root, false) }

func files(t *testing.T, root string, logs bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.Contains(p, ".staging") {
			return nil
		}
		if logs && strings.Contains(p, delta.LogDir) {
			return nil
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIngestRoundTripAndDeterminism(t *testing.T) {
	ctx := context.Background()
	in := t.TempDir()
	genFile(t, in, "alb.log.gz", schema.ALB, 3000, 100)
	genFile(t, in, "vpc.log", schema.VPCFlow, 1000, 0)
	genFile(t, in, "ct.json.gz", schema.CloudTrail, 200, 0)
	inputs, err := LocalInputs(in)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	st, err := NewLocalStore(out)
	if err != nil {
		t.Fatal(err)
	}
	ing := &Ingester{Store: st, Source: "auto"}
	rep, err := ing.Run(ctx, inputs)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records+rep.Quarantined != 4200 || rep.Quarantined != 30 || rep.BySource["alb"] != 2970 || rep.BySource["vpcflow"] != 1000 {
		t.Fatalf("report %+v", rep)
	}
	first := tree(t, out)
	if _, ok := first["source=alb/_delta_log/00000000000000000000.json"]; !ok {
		t.Fatal("no Delta log entry for the alb table")
	}
	// The ALB records read back from Parquet equal the parsed records.
	want := &parse.Collect{}
	p, _ := parse.New(schema.ALB)
	f, _ := os.Open(filepath.Join(in, "alb.log.gz"))
	zr, _ := gzip.NewReader(f)
	if err := p.Parse(ctx, zr, "alb", want); err != nil {
		t.Fatal(err)
	}
	f.Close()
	src, _ := schema.Lookup(schema.ALB)
	var got []schema.Record
	var keys []string
	for k := range first {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, "source=alb/") || strings.Contains(k, delta.LogDir) {
			continue
		}
		if !strings.HasSuffix(k, ".parquet") || !strings.Contains(k, "/dt=2026-11-28/hour=") {
			t.Fatalf("key %s", k)
		}
		recs, err := ReadFile(strings.NewReader(first[k]), int64(len(first[k])), src)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, recs...)
	}
	if len(got) != len(want.Records) {
		t.Fatalf("read back %d, parsed %d", len(got), len(want.Records))
	}
	// The writer adds the provenance column; everything else is as parsed.
	obj := src.MustIndex(schema.SourceObject)
	for i := range got {
		if got[i].Values[obj] != schema.StringOf(filepath.Join(in, "alb.log.gz")) {
			t.Fatalf("record %d source_object %+v", i, got[i].Values[obj])
		}
		want.Records[i].Values[obj] = got[i].Values[obj]
		for j := range got[i].Values {
			if got[i].Values[j] != want.Records[i].Values[j] {
				t.Fatalf("record %d column %s: %+v != %+v", i, src.Columns[j].Name, got[i].Values[j], want.Records[i].Values[j])
			}
		}
	}
	// Quarantine carries file, line and reason.
	var q string
	for k, v := range first {
		if strings.HasPrefix(k, "quarantine/source=alb/") {
			q = v
		}
	}
	if strings.Count(q, "\n") != 30 || !strings.Contains(q, `"file":"`+filepath.Join(in, "alb.log.gz")+`","line":100,`) {
		t.Fatalf("quarantine: %.300s", q)
	}

	// Rerun: same keys, same bytes, nothing added (no new log entry either:
	// every input is already committed).
	if rep, err := ing.Run(ctx, inputs); err != nil || rep.Unchanged != 3 {
		t.Fatalf("rerun: %v, %d unchanged", err, rep.Unchanged)
	}
	second := tree(t, out)
	if len(second) != len(first) {
		t.Fatalf("rerun changed object count %d -> %d", len(first), len(second))
	}
	for k, v := range first {
		if second[k] != v {
			t.Fatalf("rerun changed %s", k)
		}
	}
	// Crash simulation: the staging leftovers of a dead run and a missing
	// object; the next store removes the leftovers and the rerun restores
	// byte-identical output.
	dead := filepath.Join(out, ".staging", "run-999999999-1")
	os.MkdirAll(dead, 0o755)
	os.WriteFile(filepath.Join(dead, "part-123.parquet.tmp"), []byte("partial"), 0o644)
	os.WriteFile(filepath.Join(out, ".staging", "part-old.parquet.tmp"), []byte("partial"), 0o644)
	var lost string
	for _, k := range keys {
		if strings.HasSuffix(k, ".parquet") && lost == "" {
			lost = k
		}
	}
	os.Remove(filepath.Join(out, lost))
	st2, err := NewLocalStore(out)
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(out, ".staging")); len(ents) != 2 { // st's and st2's run dirs
		t.Fatalf("staging leftovers not removed: %v", ents)
	}
	if _, err := (&Ingester{Store: st2, Source: "auto"}).Run(ctx, inputs); err != nil {
		t.Fatal(err)
	}
	third := tree(t, out)
	for k, v := range first {
		if third[k] != v {
			t.Fatalf("after crash+rerun %s differs", k)
		}
	}
}

func TestTruncatedGzipKeepsRecords(t *testing.T) {
	dir := t.TempDir()
	p := genFile(t, dir, "alb.log.gz", schema.ALB, 20000, 0)
	b, _ := os.ReadFile(p)
	trunc := filepath.Join(dir, "trunc.log.gz")
	os.WriteFile(trunc, b[:len(b)*2/3], 0o644)
	os.Remove(p)
	inputs, _ := LocalInputs(dir)
	st, _ := NewLocalStore(filepath.Join(dir, "lake"))
	rep, err := (&Ingester{Store: st, Source: schema.ALB}).Run(context.Background(), inputs)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records < 10000 || rep.Records >= 20000 || rep.Quarantined < 1 || rep.Quarantined > 2 {
		t.Fatalf("%+v", rep)
	}
	found := false
	for r := range rep.Reasons {
		found = found || strings.Contains(r, "unexpected EOF")
	}
	if !found {
		t.Fatalf("reasons %v", rep.Reasons)
	}
}

func TestIngestS3(t *testing.T) {
	ctx := context.Background()
	ts := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer ts.Close()
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	for _, b := range []string{"raw", "lake"} {
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	gen.Write(zw, gen.Options{Type: schema.WAF, Lines: 400, Seed: 3, BadEvery: 40})
	zw.Close()
	key := "AWSLogs/123456789012/WAFLogs/eu-west-1/shop/2026/11/28/10/00/aws-waf-logs-x_20261128T1000Z.log.gz"
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("raw"), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes())}); err != nil {
		t.Fatal(err)
	}
	inputs, err := S3Inputs(ctx, client, "raw", "AWSLogs/")
	if err != nil || len(inputs) != 1 {
		t.Fatalf("%v %d", err, len(inputs))
	}
	store := &S3Store{Client: client, Bucket: "lake", Prefix: "logs", Staging: t.TempDir()}
	ing := &Ingester{Store: store, Source: "auto"}
	rep, err := ing.Run(ctx, inputs)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records+rep.Quarantined != 400 || rep.Quarantined < 5 {
		t.Fatalf("%+v", rep)
	}
	list := func() map[string]string {
		out := map[string]string{}
		res, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake")})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Contents {
			r, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			out[aws.ToString(o.Key)] = string(b)
		}
		return out
	}
	first := list()
	for k := range first {
		if strings.Contains(k, delta.LogDir) {
			delete(first, k) // the commits: checked by the rerun below
		}
	}
	if len(first) != rep.Files {
		t.Fatalf("objects %d files %d", len(first), rep.Files)
	}
	hasQ := false
	for k := range first {
		data := strings.HasPrefix(k, "logs/source=waf/account=") && strings.Contains(k, "/dt=2026-11-28/hour=")
		if !data && !strings.HasPrefix(k, "logs/quarantine/source=waf/") {
			t.Fatalf("unexpected key %s", k)
		}
		hasQ = hasQ || strings.HasPrefix(k, "logs/quarantine/")
	}
	if !hasQ {
		t.Fatal("no quarantine object")
	}
	if _, err := ing.Run(ctx, inputs); err != nil {
		t.Fatal(err)
	}
	second := list()
	if len(second) != len(first)+1 || second["logs/source=waf/_delta_log/00000000000000000000.json"] == "" {
		t.Fatalf("rerun duplicated, or the one commit is missing: %d -> %d", len(first), len(second))
	}
	for k, v := range first {
		if second[k] != v {
			t.Fatalf("rerun changed %s", k)
		}
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), f.n)
	for i := range p[:n] {
		p[i] = 'x'
	}
	f.n -= n
	return n, nil
}

func TestBadGzipHeaderAndRawReadError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.gz"), []byte{0x1f, 0x8b, 0, 0}, 0o644)
	inputs, _ := LocalInputs(dir)
	st, _ := NewLocalStore(filepath.Join(dir, "lake"))
	rep, err := (&Ingester{Store: st, Source: "auto"}).Run(context.Background(), inputs)
	if err != nil || rep.Quarantined != 1 || rep.Files != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	// A raw read failure commits nothing (a rerun must not see partial objects).
	in := Input{Name: "net", Base: "net", Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(&failingReader{n: 1000}), nil
	}}
	st2, _ := NewLocalStore(filepath.Join(dir, "lake2"))
	if _, err := (&Ingester{Store: st2, Source: schema.ALB}).File(context.Background(), in); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("want read error, got %v", err)
	}
	if got := tree(t, filepath.Join(dir, "lake2")); len(got) != 0 {
		t.Fatalf("objects after a read error: %v", got)
	}
}
