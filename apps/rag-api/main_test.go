package main

import (
	"bytes"
	"context"
	"encoding/json"
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
