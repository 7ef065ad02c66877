package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/rag-api/api"
	"github.com/unsilo/unsilo/apps/rag-api/ingest"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

func ask(t *testing.T, url, q string) api.AskResponse {
	t.Helper()
	resp, err := http.Post(url+"/v1/ask", "application/json", strings.NewReader(`{"question":`+quoteJSON(q)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ar api.AskResponse
	if err := json.NewDecoder(resp.Body).Decode(&ar); err != nil {
		t.Fatal(err)
	}
	return ar
}

func quoteJSON(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestIngestThenServe runs the real CLI path: ingest the shipped sample
// corpus into a bbolt file, reopen it read-only (as Lambda does) and ask.
func TestIngestThenServe(t *testing.T) {
	index := filepath.Join(t.TempDir(), "ix.db")
	cmd := ingestCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--index", index, "testdata/corpus"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"added": 5`) {
		t.Fatalf("ingest report: %s", out.String())
	}
	app, err := build(context.Background(), serveOpts{index: index, analyzer: search.DefaultAnalyzer, titleWeight: search.DefaultTitleWeight, readOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer app.close()
	ts := httptest.NewServer(app.handler)
	defer ts.Close()
	ar := ask(t, ts.URL, "휴가를 신청하려면 어떻게 하나요?")
	if !strings.Contains(ar.Answer, "팀장의 승인") || !strings.Contains(ar.Answer, "[1]") || !strings.HasSuffix(ar.Sources[0].Source, "hr/leave.md") || ar.Sources[0].Heading != "휴가 규정 > 휴가 신청" {
		t.Fatalf("%+v", ar)
	}
	for _, s := range ar.Sources {
		if strings.Contains(s.Source, "salary") {
			t.Fatal("HR-only document shown to an anonymous user")
		}
	}
}

// TestLiveIndex: the server ingests while it serves. Readers keep getting
// answers during a pass; new, changed and removed documents are visible
// after it without a restart; a restart loads the persisted index and
// finds nothing to redo.
func TestLiveIndex(t *testing.T) {
	docs := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(docs, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("vpn.md", "# VPN\n\nRestart the VPN client when the tunnel drops.\n")
	o := serveOpts{index: filepath.Join(t.TempDir(), "ix.db"), analyzer: search.DefaultAnalyzer, titleWeight: search.DefaultTitleWeight,
		targets: []string{docs}, ingestOpts: ingestOpts{maxBytes: ingest.DefaultMaxFileBytes}}
	app, err := build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(app.handler)
	defer ts.Close()
	app.watcher.pass(context.Background())
	if ar := ask(t, ts.URL, "VPN tunnel drops"); len(ar.Sources) != 1 {
		t.Fatalf("first pass: %+v", ar)
	}
	for i := 0; i < 30; i++ {
		write("note"+string(rune('a'+i%26))+string(rune('a'+i/26))+".md", "# Note\n\nBackups are kept for 35 days.\n")
	}
	write("parking.md", "# Parking\n\nVisitors park on level B2.\n")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan string, 1)
	wg.Add(1)
	go func() { // a reader asking throughout the pass
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := http.Post(ts.URL+"/v1/search", "application/json", strings.NewReader(`{"query":"VPN tunnel"}`))
			if err != nil || resp.StatusCode != 200 {
				select {
				case errs <- "search failed during ingest":
				default:
				}
				return
			}
			var sr api.SearchResponse
			_ = json.NewDecoder(resp.Body).Decode(&sr)
			resp.Body.Close()
			if len(sr.Results) == 0 {
				select {
				case errs <- "an indexed document vanished during ingest":
				default:
				}
				return
			}
		}
	}()
	app.watcher.pass(context.Background())
	close(stop)
	wg.Wait()
	select {
	case e := <-errs:
		t.Fatal(e)
	default:
	}
	if ar := ask(t, ts.URL, "Where do visitors park?"); len(ar.Sources) == 0 || !strings.Contains(ar.Answer, "B2") {
		t.Fatalf("new document not visible: %+v", ar)
	}
	if err := os.Remove(filepath.Join(docs, "parking.md")); err != nil {
		t.Fatal(err)
	}
	app.watcher.pass(context.Background())
	if ar := ask(t, ts.URL, "Where do visitors park?"); strings.Contains(ar.Answer, "B2") {
		t.Fatalf("removed document still answered: %+v", ar)
	}
	n := app.index.Len()
	app.close()

	start := time.Now()
	again, err := build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer again.close()
	if again.index.Len() != n {
		t.Fatalf("restart loaded %d chunks, had %d", again.index.Len(), n)
	}
	rep, err := ingestTarget(context.Background(), again.watcher.in, docs)
	if err != nil || rep.Changed() || rep.Unchanged != 31 {
		t.Fatalf("after restart: %+v %v", rep, err)
	}
	t.Logf("restart with %d chunks: loaded and checked in %s", n, time.Since(start))
}

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "rag-api-bench-") }

// TestSlowBodiesAreCut: a client that sends headers and then trickles (or
// withholds) its body loses the connection at the read timeout instead of
// holding it.
func TestSlowBodiesAreCut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.ReadAll(r.Body) })
	srv := httpServer(serveOpts{readTimeout: 300 * time.Millisecond}, h)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"question\":")
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(c) // returns when the server closes the connection
	if err != nil || time.Since(start) > 5*time.Second {
		t.Fatalf("slow body held for %s (%v)", time.Since(start), err)
	}
}

// TestFailingTargetDoesNotStopTheOthers: an unmounted folder is logged and
// retried; the other targets are ingested.
func TestFailingTargetDoesNotStopTheOthers(t *testing.T) {
	docs := t.TempDir()
	if err := os.WriteFile(filepath.Join(docs, "a.md"), []byte("# A\n\nThe answer is here."), 0o644); err != nil {
		t.Fatal(err)
	}
	o := serveOpts{index: filepath.Join(t.TempDir(), "ix.db"), analyzer: search.DefaultAnalyzer, titleWeight: search.DefaultTitleWeight,
		targets: []string{filepath.Join(docs, "not-mounted"), docs}}
	app, err := build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer app.close()
	var logs bytes.Buffer
	app.watcher.log = slog.New(slog.NewTextHandler(&logs, nil))
	app.watcher.pass(context.Background())
	if app.index.Len() != 1 || !strings.Contains(logs.String(), "retrying next pass") || !strings.Contains(logs.String(), "not-mounted") {
		t.Fatalf("%d chunks; log:\n%s", app.index.Len(), logs.String())
	}
}

// TestAnswersFromRealPDFs: facts that live only in PDFs written by Chromium
// (Type 3 fonts) and LibreOffice are found and cited with their page.
func TestAnswersFromRealPDFs(t *testing.T) {
	docs := t.TempDir()
	for _, f := range []string{"chromium-type3.pdf", "libreoffice.pdf"} {
		b, err := os.ReadFile(filepath.Join("ingest", "testdata", "producers", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(docs, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	app, err := build(context.Background(), serveOpts{index: filepath.Join(t.TempDir(), "ix.db"), analyzer: search.DefaultAnalyzer,
		titleWeight: search.DefaultTitleWeight, prf: true, targets: []string{docs}, ingestOpts: ingestOpts{pdfCache: ingest.DefaultPDFCacheDir()}})
	if err != nil {
		t.Fatal(err)
	}
	defer app.close()
	app.watcher.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	app.watcher.pass(context.Background())
	ts := httptest.NewServer(app.handler)
	defer ts.Close()
	cases := []struct {
		q, want string
		page    int
	}{
		{"국내 출장 일일 식비 한도는 얼마인가요?", "삼만 오천 원", 1},
		{"When are taxis reimbursed?", "taxis after 22:00 are reimbursed", 2},
	}
	for _, c := range cases {
		ar := ask(t, ts.URL, c.q)
		if !strings.Contains(ar.Answer, c.want) || len(ar.Sources) == 0 || ar.Sources[0].Page != c.page || !strings.HasSuffix(ar.Sources[0].Source, ".pdf") {
			t.Errorf("%q: answer %q, sources %+v", c.q, ar.Answer, ar.Sources)
		}
	}
}
