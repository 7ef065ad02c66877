package deliver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/unsilo/unsilo/apps/alert-bridge/enrich"
	"github.com/unsilo/unsilo/apps/alert-bridge/metrics"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
	"github.com/unsilo/unsilo/apps/alert-bridge/store"
	"github.com/unsilo/unsilo/apps/rag-api/doc"
	ragsearch "github.com/unsilo/unsilo/apps/rag-api/search"
	ragserver "github.com/unsilo/unsilo/apps/rag-api/server"
)

type received struct {
	key  string
	body Outbound
}

// target answers with responses[i] for the i-th request, then the last one.
type target struct {
	mu        sync.Mutex
	responses []func(w http.ResponseWriter)
	got       []received
	srv       *httptest.Server
}

func newTarget(t *testing.T, responses ...func(w http.ResponseWriter)) *target {
	tg := &target{responses: responses}
	tg.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var o Outbound
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Errorf("target got bad JSON: %v", err)
		}
		tg.mu.Lock()
		i := len(tg.got)
		tg.got = append(tg.got, received{key: r.Header.Get("Idempotency-Key"), body: o})
		resp := tg.responses[min(i, len(tg.responses)-1)]
		tg.mu.Unlock()
		resp(w)
	}))
	t.Cleanup(tg.srv.Close)
	return tg
}

func (tg *target) requests() []received {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]received(nil), tg.got...)
}

func status(code int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling interval, not synchronization
	}
}

type fixture struct {
	st  *store.Store
	d   *Deliverer
	m   *metrics.Metrics
	ctx context.Context
}

func start(t *testing.T, url string, maxAge time.Duration, en Enricher) *fixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(prometheus.NewRegistry(), metrics.Gauges{})
	d := New(Config{Store: st, URL: url, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		MaxAge: maxAge, Poll: 5 * time.Millisecond, Metrics: m, Enricher: en, Workers: 4, Log: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		st.Close()
	})
	return &fixture{st: st, d: d, m: m, ctx: ctx}
}

func (f *fixture) enqueue(t *testing.T, group string) string {
	t.Helper()
	res, err := f.st.Enqueue(context.Background(), &payload.Notification{Source: payload.SourceAlertmanager, GroupKey: group, Status: "firing",
		CommonLabels: map[string]string{"alertname": "HighErrorRate", "severity": "critical"},
		Alerts:       []payload.Alert{{Status: "firing", Fingerprint: "f", Labels: map[string]string{"alertname": "HighErrorRate"}}}})
	if err != nil {
		t.Fatal(err)
	}
	f.d.Wake()
	return res.ID
}

func TestRetryUntilOK(t *testing.T) {
	tg := newTarget(t, status(500, "boom"), status(502, ""), status(503, ""), status(200, `{"ok":true}`))
	f := start(t, tg.srv.URL, time.Hour, nil)
	id := f.enqueue(t, "g")
	waitFor(t, "delivery", func() bool { return count(f.m.Delivered) == 1 })
	got := tg.requests()
	if len(got) != 4 {
		t.Fatalf("%d requests, want 4", len(got))
	}
	for i, r := range got {
		if r.key != id || r.body.ID != id || r.body.Attempt != i+1 {
			t.Fatalf("request %d: key %q id %q attempt %d, want key %q attempt %d", i, r.key, r.body.ID, r.body.Attempt, id, i+1)
		}
	}
	if got[0].body.AlertName != "HighErrorRate" || got[0].body.Severity != "critical" {
		t.Fatalf("outbound fields: %+v", got[0].body)
	}
	if count(f.m.Retries) != 3 {
		t.Fatalf("retries %v", count(f.m.Retries))
	}
	waitFor(t, "empty outbox", func() bool { return f.st.Depth() == 0 })
}

func TestErrorBodyIsFailure(t *testing.T) {
	tg := newTarget(t, status(200, `{"ok":false,"msg":"no"}`), status(200, `{"error":"workflow failed"}`),
		status(202, `{"errors":[{"m":"x"}]}`), status(200, `{"ok":true,"error":null}`))
	f := start(t, tg.srv.URL, time.Hour, nil)
	f.enqueue(t, "g")
	waitFor(t, "delivery", func() bool { return count(f.m.Delivered) == 1 })
	if n := len(tg.requests()); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
}

func TestBodyError(t *testing.T) {
	cases := map[string]bool{
		``: false, `Workflow was started`: false, `{"message":"Workflow was started"}`: false,
		`{"ok":true}`: false, `{"error":null}`: false, `{"error":""}`: false, `{"errors":[]}`: false, `{"error":false}`: false,
		`{"ok":false}`: true, `{"error":"x"}`: true, `{"error":{"code":1}}`: true, `{"errors":["x"]}`: true, `{"error":true}`: true,
	}
	for body, fail := range cases {
		if got := bodyError([]byte(body)) != ""; got != fail {
			t.Errorf("%s: failure=%v want %v", body, got, fail)
		}
	}
}

func TestDeadAfterMaxAgeThenReplay(t *testing.T) {
	var healthy atomic.Bool
	tg := newTarget(t, func(w http.ResponseWriter) {
		if healthy.Load() {
			status(200, `{}`)(w)
			return
		}
		status(500, "down")(w)
	})
	f := start(t, tg.srv.URL, 30*time.Millisecond, nil)
	id := f.enqueue(t, "g")
	// The store counts the dead letter at commit; the metric follows.
	waitFor(t, "dead letter", func() bool { return f.st.DeadCount() == 1 && count(f.m.Dead) == 1 })
	if f.st.Depth() != 0 {
		t.Fatalf("depth %d dead metric %v", f.st.Depth(), count(f.m.Dead))
	}
	dead, _ := f.st.DeadLetters(10)
	if dead[0].ID != id || dead[0].LastError == "" {
		t.Fatalf("dead letter %+v", dead[0])
	}
	before := len(tg.requests())
	healthy.Store(true)
	if _, err := f.st.Replay(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	f.d.Wake()
	waitFor(t, "replayed delivery", func() bool { return count(f.m.Delivered) == 1 })
	got := tg.requests()
	if last := got[len(got)-1]; last.key != id || len(got) != before+1 {
		t.Fatalf("replay sent key %q (want %q), %d requests after %d", last.key, id, len(got), before)
	}
}

func TestBackoffFullJitter(t *testing.T) {
	for attempt := range 50 {
		ceil := min(time.Duration(100)*time.Millisecond<<min(attempt, 30), time.Minute)
		for range 20 {
			if d := Backoff(attempt, 100*time.Millisecond, time.Minute); d < 0 || d >= ceil {
				t.Fatalf("attempt %d: %v outside [0,%v)", attempt, d, ceil)
			}
		}
	}
}

type retriever struct{ fail bool }

func (r retriever) Search(_ context.Context, q ragsearch.Query) ([]ragsearch.Hit, error) {
	if r.fail {
		return nil, errors.New("index unavailable")
	}
	return []ragsearch.Hit{{Chunk: &doc.Chunk{Title: "High error rate runbook", Text: "Check the last deploy: " + q.Text, Source: "runbooks/errors.md"}, Score: 2.5}}, nil
}

// The enrichment talks to the real rag-api handler (which rejects unknown
// fields), so a drift in the request shape fails here.
func TestEnrichedWithRunbookAndEvidence(t *testing.T) {
	rag := httptest.NewServer(ragserver.New(ragserver.Config{Retriever: retriever{}}))
	defer rag.Close()
	tg := newTarget(t, status(200, `{}`))
	en := enrich.New(enrich.Config{RagURL: rag.URL, Timeout: 2 * time.Second, LakeTemplates: map[string]string{"*": "https://lake.example/q?alert={alertname}&fp={fingerprint}"}})
	f := start(t, tg.srv.URL, time.Hour, en)
	f.enqueue(t, "g")
	waitFor(t, "delivery", func() bool { return count(f.m.Delivered) == 1 })
	b := tg.requests()[0].body
	if len(b.Runbook) != 1 || b.Runbook[0].Source != "runbooks/errors.md" || b.RunbookNote != "" {
		t.Fatalf("runbook %+v note %q", b.Runbook, b.RunbookNote)
	}
	if b.EvidenceURL != "https://lake.example/q?alert=HighErrorRate&fp=f" {
		t.Fatalf("evidence %q", b.EvidenceURL)
	}
}

func TestRagDownDoesNotBlockDelivery(t *testing.T) {
	rag := httptest.NewServer(http.NotFoundHandler())
	ragURL := rag.URL
	rag.Close() // connection refused
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	failing := httptest.NewServer(ragserver.New(ragserver.Config{Retriever: retriever{fail: true}}))
	defer failing.Close()
	for name, u := range map[string]string{"refused": ragURL, "hangs": slow.URL, "5xx": failing.URL} {
		t.Run(name, func(t *testing.T) {
			tg := newTarget(t, status(200, `{}`))
			en := enrich.New(enrich.Config{RagURL: u, Timeout: 100 * time.Millisecond})
			f := start(t, tg.srv.URL, time.Hour, en)
			f.enqueue(t, "g")
			waitFor(t, "delivery", func() bool { return count(f.m.Delivered) == 1 })
			b := tg.requests()[0].body
			if len(b.Runbook) != 0 || b.RunbookNote == "" {
				t.Fatalf("runbook %+v note %q", b.Runbook, b.RunbookNote)
			}
			t.Logf("note: %s", b.RunbookNote)
		})
	}
}

func count(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// With the target down and a large outbox, the deliverer holds at most
// Workers messages sending plus 4*Workers being recorded: the backlog
// stays on disk.
func TestBoundedWhileTargetDown(t *testing.T) {
	tg := newTarget(t, status(503, "down"))
	f := start(t, tg.srv.URL, time.Hour, nil)
	var wg sync.WaitGroup
	for w := range 32 { // concurrent, so group commit batches the inserts
		wg.Go(func() {
			for i := range 2000 / 32 {
				n := &payload.Notification{Source: payload.SourceAlertmanager, GroupKey: fmt.Sprint("g", w, "-", i), Status: "firing",
					Alerts: []payload.Alert{{Status: "firing", Fingerprint: "f", Labels: map[string]string{"alertname": "A"}}}}
				if _, err := f.st.Enqueue(context.Background(), n); err != nil {
					t.Error(err) // not Fatal: off the test goroutine
					return
				}
			}
		})
	}
	wg.Wait()
	f.d.Wake()
	maxHeld := 0
	waitFor(t, "500 failed attempts", func() bool {
		f.d.mu.Lock()
		maxHeld = max(maxHeld, len(f.d.inflight))
		f.d.mu.Unlock()
		return count(f.m.Retries) >= 500
	})
	if limit := 4 + 4*4; maxHeld > limit {
		t.Fatalf("held %d messages in memory, bound is %d", maxHeld, limit)
	}
	if f.st.Depth() != 2000/32*32 {
		t.Fatalf("depth %d, want all %d still on disk", f.st.Depth(), 2000/32*32)
	}
	t.Logf("%d pending, at most %d in memory", f.st.Depth(), maxHeld)
}
