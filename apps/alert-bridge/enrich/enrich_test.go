package enrich

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ragapi "github.com/unsilo/unsilo/apps/rag-api/api"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

func TestEvidenceURL(t *testing.T) {
	e := New(Config{LakeTemplates: map[string]string{
		"*":          "https://lake/q?alert={alertname}&from={startsAt}&status={status}",
		"DiskFull":   "https://lake/disk?fp={fingerprint}&g={groupKey}",
		"NoEvidence": "",
	}})
	n := &payload.Notification{GroupKey: `{}:{alertname="A b"}`, Status: "firing", AlertName: "A b",
		First: payload.AlertRef{Fingerprint: "f&1", StartsAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	if got, want := e.EvidenceURL(n), "https://lake/q?alert=A+b&from=2026-01-02T03%3A04%3A05Z&status=firing"; got != want {
		t.Fatalf("default template: %s want %s", got, want)
	}
	n.AlertName = "DiskFull"
	if got, want := e.EvidenceURL(n), "https://lake/disk?fp=f%261&g=%7B%7D%3A%7Balertname%3D%22A+b%22%7D"; got != want {
		t.Fatalf("per-alert template: %s want %s", got, want)
	}
	n.AlertName = "NoEvidence"
	if got := e.EvidenceURL(n); got != "" {
		t.Fatalf("empty template gave %q", got)
	}
	if got := New(Config{}).EvidenceURL(n); got != "" {
		t.Fatalf("no templates gave %q", got)
	}
}

// ragServer speaks rag-api's /v1/search contract (apps/rag-api/api) as
// strictly as rag-api does: unknown fields are a 400.
type ragServer struct {
	calls atomic.Int64
	mode  atomic.Value // "ok", "fail", "hang"
}

func (r *ragServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.calls.Add(1)
	dec := json.NewDecoder(req.Body)
	dec.DisallowUnknownFields()
	var sr ragapi.SearchRequest
	if req.URL.Path != "/v1/search" || dec.Decode(&sr) != nil || sr.Query == "" || sr.TopK <= 0 {
		http.Error(w, `{"error":"bad search request"}`, http.StatusBadRequest)
		return
	}
	switch r.mode.Load() {
	case "fail":
		http.Error(w, `{"error":"index unavailable"}`, http.StatusInternalServerError)
		return
	case "hang":
		<-req.Context().Done()
		return
	}
	json.NewEncoder(w).Encode(ragapi.SearchResponse{Results: []ragapi.SearchResult{
		{Title: "High error rate runbook", Text: "Check the last deploy: " + sr.Query, Source: "runbooks/errors.md", Score: 2.5}}})
}

func newRag(t *testing.T, mode string) (*ragServer, string) {
	r := &ragServer{}
	r.mode.Store(mode)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv.URL
}

var alertN = &payload.Notification{AlertName: "HighErrorRate", Summary: "5xx above 5%"}

func TestRunbookFromRagAPI(t *testing.T) {
	rag, u := newRag(t, "ok")
	e := New(Config{RagURL: u, Timeout: 2 * time.Second})
	r := e.Enrich(context.Background(), alertN)
	if len(r.Runbook) != 1 || r.Runbook[0].Source != "runbooks/errors.md" || r.RunbookNote != "" {
		t.Fatalf("runbook %+v note %q", r.Runbook, r.RunbookNote)
	}
	// Retries and repeats of the same alert are served from the cache.
	for range 10 {
		e.Enrich(context.Background(), alertN)
	}
	if n := rag.calls.Load(); n != 1 {
		t.Fatalf("%d searches for one query, want 1 (cached)", n)
	}
}

// A hung or failing rag-api costs one timeout per cool-down, not one per
// delivery: the notification goes out with a note instead of passages.
func TestRagDownCostsOneTimeoutPerCoolDown(t *testing.T) {
	for _, mode := range []string{"hang", "fail", "refused"} {
		t.Run(mode, func(t *testing.T) {
			rag, u := newRag(t, mode)
			if mode == "refused" {
				u = "http://127.0.0.1:1"
			}
			var skipped sync.Map
			e := New(Config{RagURL: u, Timeout: 100 * time.Millisecond, CoolDown: time.Hour,
				OnSkip: func(r string) { n, _ := skipped.LoadOrStore(r, new(atomic.Int64)); n.(*atomic.Int64).Add(1) }})
			start := time.Now()
			for i := range 50 {
				n := *alertN
				n.Summary += strings.Repeat("!", i) // 50 distinct queries: no cache hit
				r := e.Enrich(context.Background(), &n)
				if len(r.Runbook) != 0 || !strings.Contains(r.RunbookNote, "rag-api unavailable") {
					t.Fatalf("lookup %d: %+v", i, r)
				}
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("50 notifications took %v with rag-api %s", took, mode)
			}
			if mode != "refused" && rag.calls.Load() != 1 {
				t.Fatalf("%d calls to a %s rag-api, want 1 then the cool-down", rag.calls.Load(), mode)
			}
			if n, ok := skipped.Load("cooldown"); !ok || n.(*atomic.Int64).Load() != 49 {
				t.Fatalf("skips %v", n)
			}
		})
	}
}

func TestDisabledAndEmptyQuery(t *testing.T) {
	if r := New(Config{}).Enrich(context.Background(), alertN); r.RunbookNote != "runbook lookup disabled" || r.Runbook == nil {
		t.Fatalf("disabled: %+v", r)
	}
	e := New(Config{RagURL: "http://127.0.0.1:1"})
	if r := e.Enrich(context.Background(), &payload.Notification{}); !strings.Contains(r.RunbookNote, "no alertname") {
		t.Fatalf("empty query: %+v", r)
	}
}

func TestCacheBoundedAndExpires(t *testing.T) {
	c := newCache(3)
	now := time.Unix(0, 0)
	for _, q := range []string{"a", "b", "c", "d"} {
		c.put(q, nil, now.Add(time.Minute))
	}
	if c.len() != 3 {
		t.Fatalf("cache holds %d, bound 3", c.len())
	}
	if _, ok := c.get("a", now); ok {
		t.Fatal("least recently used entry kept")
	}
	if _, ok := c.get("d", now.Add(time.Minute)); ok {
		t.Fatal("expired entry served")
	}
}
