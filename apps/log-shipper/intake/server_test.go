package intake

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/log-shipper/delta"
	"github.com/unsilo/unsilo/apps/log-shipper/lake"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

const fourLines = `{"date":1764324000.5,"log":"ERROR boom","stream":"stderr","kubernetes":{"pod_name":"api-1","namespace_name":"shop"}}
{"date":1764324001.5,"log":"INFO ok","kubernetes":{"pod_name":"api-1","namespace_name":"shop"}}
{"date":1764324002.5,"log":"level=warn msg=slow","kubernetes":{"pod_name":"api-2","namespace_name":"shop"}}
{"date":1764324003.5,"log":"plain","kubernetes":{"pod_name":"api-2","namespace_name":"shop"}}
`

type env struct {
	srv     *Server
	ts      *httptest.Server
	lakeDir string
	spool   string
	flushes chan FlushResult
	cancel  context.CancelFunc
}

func newEnv(t *testing.T, lakeDir, spoolDir string, store lake.Store, cfg Config) *env {
	t.Helper()
	if store == nil {
		st, err := lake.NewLocalStore(lakeDir)
		if err != nil {
			t.Fatal(err)
		}
		store = st
	}
	e := &env{lakeDir: lakeDir, spool: spoolDir, flushes: make(chan FlushResult, 16)}
	cfg.SpoolDir, cfg.Store = spoolDir, store
	cfg.OnFlush = func(r FlushResult) { e.flushes <- r }
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() { e.ts.Close(); cancel() })
	return e
}

func (e *env) post(t *testing.T, body []byte, gz bool) (int, string) {
	t.Helper()
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(body)
		zw.Close()
		body = b.Bytes()
	}
	req, _ := http.NewRequest("POST", e.ts.URL+"/v1/logs", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func (e *env) waitFlush(t *testing.T) FlushResult {
	t.Helper()
	select {
	case r := <-e.flushes:
		return r
	case <-time.After(20 * time.Second): // failure guard only, not synchronisation
		t.Fatal("no flush")
	}
	return FlushResult{}
}

// lakeRecords counts container records and quarantine lines in the lake;
// every data file must be committed in the container table's Delta log.
func lakeRecords(t *testing.T, dir string) (records int, quarantined int, objects int) {
	t.Helper()
	src, _ := schema.Lookup(schema.Container)
	snap, err := delta.Load(context.Background(), &lake.LocalStore{Root: dir}, "source=container/")
	if err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, ".staging") || strings.Contains(p, delta.LogDir) {
			return err
		}
		objects++
		if rel, _ := filepath.Rel(filepath.Join(dir, "source=container"), p); strings.HasSuffix(p, ".parquet") && snap.Files[filepath.ToSlash(rel)] == nil {
			t.Fatalf("%s is not committed in the Delta log", p)
		}
		b, _ := os.ReadFile(p)
		if strings.HasSuffix(p, ".jsonl") {
			quarantined += bytes.Count(b, []byte("\n"))
			return nil
		}
		recs, err := lake.ReadFile(bytes.NewReader(b), int64(len(b)), src)
		if err != nil {
			t.Fatal(err)
		}
		records += len(recs)
		return nil
	})
	return
}

func spoolEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Fatalf("spool not empty: %v", ents)
	}
}

func TestFlushBySizeJSONLinesArrayGzip(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, filepath.Join(dir, "lake"), filepath.Join(dir, "spool"), nil, Config{MaxBatchRecords: 10, FlushInterval: time.Hour,
		Account: "123456789012", Region: "ap-northeast-2"})
	if code, body := e.post(t, []byte(fourLines), false); code != 200 || body != `{"accepted":4,"quarantined":0}` {
		t.Fatalf("%d %s", code, body)
	}
	arr := `[{"date":1764324010,"log":"a"},{"date":1764324011,"log":"b"},{"nodate":1}]`
	if code, body := e.post(t, []byte(arr), false); code != 200 || body != `{"accepted":2,"quarantined":1}` {
		t.Fatalf("%d %s", code, body)
	}
	if code, _ := e.post(t, []byte(fourLines), true); code != 200 {
		t.Fatal(code)
	}
	r := e.waitFlush(t)
	if r.Err != nil || r.Records != 10 || r.Quarantined != 1 || r.Segments != 3 {
		t.Fatalf("%+v", r)
	}
	for _, o := range r.Objects { // partitioned under the cluster's account and region
		if strings.HasSuffix(o, ".parquet") && !strings.HasPrefix(o, "source=container/account=123456789012/in_region=ap-northeast-2/") {
			t.Errorf("object %s", o)
		}
	}
	recs, q, _ := lakeRecords(t, e.lakeDir)
	if recs != 10 || q != 1 {
		t.Fatalf("lake has %d records %d quarantined", recs, q)
	}
	spoolEmpty(t, e.spool)
}

func TestFlushByAge(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, filepath.Join(dir, "lake"), filepath.Join(dir, "spool"), nil, Config{FlushInterval: 40 * time.Millisecond})
	if code, _ := e.post(t, []byte(fourLines), false); code != 200 {
		t.Fatal(code)
	}
	if r := e.waitFlush(t); r.Err != nil || r.Records != 4 {
		t.Fatalf("%+v", r)
	}
	spoolEmpty(t, e.spool)
}

func TestRejects(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, filepath.Join(dir, "lake"), filepath.Join(dir, "spool"), nil, Config{MaxBodyBytes: 1000, FlushInterval: time.Hour})
	req, _ := http.NewRequest("POST", e.ts.URL+"/v1/logs", strings.NewReader("not gzip"))
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("bad gzip: %v %v", err, resp.StatusCode)
	}
	if code, _ := e.post(t, bytes.Repeat([]byte(fourLines), 10), false); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d", code)
	}
	if code, _ := e.post(t, []byte("  \n"), false); code != 400 {
		t.Fatalf("empty: %d", code)
	}
	// not JSON at all: accepted and quarantined (Fluent Bit would retry a 4xx forever)
	if code, body := e.post(t, []byte("hello\nworld\n"), false); code != 200 || body != `{"accepted":0,"quarantined":2}` {
		t.Fatalf("%d %s", code, body)
	}
	if resp, _ := http.Get(e.ts.URL + "/healthz"); resp.StatusCode != 200 {
		t.Fatal("healthz")
	}
}

// failingStore fails every Put: flushes fail and the segments stay spooled.
type failingStore struct{ lake.Store }

func (f failingStore) Put(context.Context, string, string) error { return errors.New("s3 down") }

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	os.MkdirAll(to, 0o755)
	ents, _ := os.ReadDir(from)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(from, e.Name()))
		os.WriteFile(filepath.Join(to, e.Name()), b, 0o644)
	}
}

func TestSpoolReplayAfterCrash(t *testing.T) {
	dir := t.TempDir()
	lakeDir, spoolDir := filepath.Join(dir, "lake"), filepath.Join(dir, "spool")
	st, _ := lake.NewLocalStore(lakeDir)
	// 1. acknowledged but never flushed (process dies): replayed on start.
	a := newEnv(t, lakeDir, spoolDir, st, Config{FlushInterval: time.Hour})
	for i := 0; i < 3; i++ {
		if code, _ := a.post(t, []byte(fourLines), false); code != 200 {
			t.Fatal(code)
		}
	}
	a.ts.Close()
	a.cancel() // crash: no Close, no flush
	if recs, _, _ := lakeRecords(t, lakeDir); recs != 0 {
		t.Fatal("flushed too early")
	}
	b := newEnv(t, lakeDir, spoolDir, st, Config{FlushInterval: time.Hour})
	if r := b.waitFlush(t); r.Records != 12 || r.Err != nil {
		t.Fatalf("replay: %+v", r)
	}
	if recs, _, _ := lakeRecords(t, lakeDir); recs != 12 {
		t.Fatalf("after replay %d", recs)
	}
	spoolEmpty(t, spoolDir)

	// 2. a flush that fails (S3 down) keeps the batch manifest and segments.
	c := newEnv(t, lakeDir, spoolDir, failingStore{st}, Config{FlushInterval: time.Hour})
	c.post(t, []byte(fourLines), false)
	c.post(t, []byte(fourLines), true)
	if err := c.srv.Flush(context.Background()); err == nil {
		t.Fatal("flush to a failing store must fail")
	}
	c.waitFlush(t)
	c.ts.Close()
	c.cancel()
	snapshot := filepath.Join(dir, "snapshot")
	copyDir(t, spoolDir, snapshot) // state as a crash would leave it

	// 3. restart with a working store: the interrupted batch is committed.
	newEnv(t, lakeDir, spoolDir, st, Config{FlushInterval: time.Hour})
	recs, _, objs := lakeRecords(t, lakeDir)
	if recs != 20 {
		t.Fatalf("after batch replay %d records", recs)
	}
	spoolEmpty(t, spoolDir)

	// 4. crash after the commit but before the spool was cleared: the
	// replay rewrites the same objects, adding no duplicate.
	os.RemoveAll(spoolDir)
	copyDir(t, snapshot, spoolDir)
	newEnv(t, lakeDir, spoolDir, st, Config{FlushInterval: time.Hour})
	recs2, _, objs2 := lakeRecords(t, lakeDir)
	if recs2 != 20 || objs2 != objs {
		t.Fatalf("duplicate after replay: %d records %d objects (was %d/%d)", recs2, objs2, recs, objs)
	}
	spoolEmpty(t, spoolDir)
}

func TestCloseFlushes(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, filepath.Join(dir, "lake"), filepath.Join(dir, "spool"), nil, Config{FlushInterval: time.Hour})
	e.post(t, []byte(fourLines), false)
	if err := e.srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if recs, _, _ := lakeRecords(t, e.lakeDir); recs != 4 {
		t.Fatalf("%d", recs)
	}
	// The same body acknowledged again later is a new delivery: it must not
	// overwrite the first one's objects.
	e2 := newEnv(t, e.lakeDir, e.spool, nil, Config{FlushInterval: time.Hour})
	e2.post(t, []byte(fourLines), false)
	if err := e2.srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if recs, _, _ := lakeRecords(t, e.lakeDir); recs != 8 {
		t.Fatalf("second delivery: %d records", recs)
	}
}

// switchStore fails every Put while down is set.
type switchStore struct {
	lake.Store
	down atomic.Bool
}

func (s *switchStore) Put(ctx context.Context, key, staged string) error {
	if s.down.Load() {
		return errors.New("s3 down")
	}
	return s.Store.Put(ctx, key, staged)
}

func TestFailedFlushRetriedAsIs(t *testing.T) {
	dir := t.TempDir()
	lakeDir, spoolDir := filepath.Join(dir, "lake"), filepath.Join(dir, "spool")
	base, _ := lake.NewLocalStore(lakeDir)
	st := &switchStore{Store: base}
	st.down.Store(true)
	e := newEnv(t, lakeDir, spoolDir, st, Config{FlushInterval: time.Hour})
	ctx := context.Background()
	e.post(t, []byte(fourLines), false)
	if err := e.srv.Flush(ctx); err == nil {
		t.Fatal("want failure")
	}
	e.waitFlush(t)
	e.post(t, []byte(fourLines), false)
	if err := e.srv.Flush(ctx); err == nil { // the retry fails again; the new body waits
		t.Fatal("want failure")
	}
	e.waitFlush(t)
	_, manifests, _ := e.srv.spool.list()
	if len(manifests) != 1 {
		t.Fatalf("segments must belong to one manifest at most: %v", manifests)
	}
	st.down.Store(false)
	if err := e.srv.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if r1, r2 := e.waitFlush(t), e.waitFlush(t); r1.Records != 4 || r2.Records != 4 {
		t.Fatalf("%+v %+v", r1, r2)
	}
	if recs, _, _ := lakeRecords(t, lakeDir); recs != 8 {
		t.Fatalf("%d records", recs)
	}
	spoolEmpty(t, spoolDir)
}

// A write that fails (here the rename: the name is taken by a directory)
// leaves no temp file, and the next write succeeds.
func TestSpoolFailedWriteLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	sp, err := openSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "taken.req", "x"), 0o755)
	if err := sp.writeDurable("taken.req", []byte("body")); err == nil {
		t.Fatal("want the rename to fail")
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmps) != 0 {
		t.Fatalf("temp files left: %v", tmps)
	}
	name, err := sp.append([]byte("next"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := sp.read(name); string(b) != "next" {
		t.Fatalf("%q", b)
	}
}
