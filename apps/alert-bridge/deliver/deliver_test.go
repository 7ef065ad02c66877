package deliver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
	"github.com/unsilo/unsilo/apps/alert-bridge/metrics"
	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
	"github.com/unsilo/unsilo/apps/alert-bridge/store"
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
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling interval, not synchronization
	}
}

type fixture struct {
	st  *store.Store
	q   outbox.Queue
	d   *Deliverer
	m   *metrics.Metrics
	ctx context.Context
}

type options struct {
	maxAge   time.Duration
	en       Enricher
	workers  int
	client   *http.Client
	wrap     func(*store.Store) outbox.Queue
	probeMax time.Duration
}

func start(t *testing.T, url string, o options) *fixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var q outbox.Queue = st
	if o.wrap != nil {
		q = o.wrap(st)
	}
	if o.maxAge == 0 {
		o.maxAge = time.Hour
	}
	if o.workers == 0 {
		o.workers = 4
	}
	m := metrics.New(prometheus.NewRegistry(), metrics.Gauges{})
	d := New(Config{Queue: q, URL: url, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Client: o.client,
		MaxAge: o.maxAge, Poll: 5 * time.Millisecond, Metrics: m, Enricher: o.en, Workers: o.workers, Log: slog.New(slog.DiscardHandler),
		ProbeMin: time.Millisecond, ProbeMax: max(o.probeMax, 5*time.Millisecond), StoreRetryMax: 20 * time.Millisecond})
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
	return &fixture{st: st, q: q, d: d, m: m, ctx: ctx}
}

func notif(t testing.TB, s loadgen.Spec) *payload.Notification {
	t.Helper()
	n, err := payload.DecodeAlertmanager(loadgen.Body(s))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) enqueue(t *testing.T, s loadgen.Spec) string {
	t.Helper()
	res, err := f.st.Enqueue(context.Background(), notif(t, s))
	if err != nil {
		t.Fatal(err)
	}
	f.d.Wake()
	return res.ID
}

func count(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func TestRetryUntilOK(t *testing.T) {
	tg := newTarget(t, status(500, "boom"), status(502, ""), status(503, ""), status(200, `{"ok":true}`))
	f := start(t, tg.srv.URL, options{})
	id := f.enqueue(t, loadgen.Spec{Group: "g"})
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
	if b := got[0].body; b.AlertName != "KubePodCrashLooping" || b.Severity != "critical" || b.Receiver != "alert-bridge" || b.Alerts != 1 {
		t.Fatalf("outbound fields: %+v", b)
	}
	if count(f.m.Retries) != 3 {
		t.Fatalf("retries %v", count(f.m.Retries))
	}
	waitFor(t, "empty outbox", func() bool { return f.st.Depth() == 0 })
}

// Every field the sender sent reaches the target: "notification" is the
// webhook body byte for byte (here with Alertmanager's notification_reason
// and Grafana's values, imageURL and per-alert orgId).
func TestNotificationForwardedVerbatim(t *testing.T) {
	var mu sync.Mutex
	var bodies []json.RawMessage
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var o Outbound
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			t.Errorf("bad JSON: %v", err)
		}
		mu.Lock()
		bodies = append(bodies, o.Notification)
		mu.Unlock()
	}))
	defer srv.Close()
	f := start(t, srv.URL, options{})
	am := loadgen.Body(loadgen.Spec{Group: "am", Alerts: 3})
	gr := loadgen.Body(loadgen.Spec{Group: "gr", Alerts: 2, Source: "grafana"})
	for _, c := range []struct {
		raw    []byte
		decode func([]byte) (*payload.Notification, error)
	}{{am, payload.DecodeAlertmanager}, {gr, payload.DecodeGrafana}} {
		n, err := c.decode(c.raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.Enqueue(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	f.d.Wake()
	waitFor(t, "two deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return len(bodies) == 2 })
	got := map[string]bool{string(bodies[0]): true, string(bodies[1]): true}
	if !got[string(am)] || !got[string(gr)] {
		t.Fatalf("forwarded notifications differ from the bodies received:\n%s\n%s", bodies[0], bodies[1])
	}
}

func TestErrorBodyIsFailure(t *testing.T) {
	tg := newTarget(t, status(200, `{"ok":false,"msg":"no"}`), status(200, `{"error":"workflow failed"}`),
		status(202, `{"errors":[{"m":"x"}]}`), status(200, `{"ok":true,"error":null}`))
	f := start(t, tg.srv.URL, options{})
	f.enqueue(t, loadgen.Spec{Group: "g"})
	waitFor(t, "delivery", func() bool { return count(f.m.Delivered) == 1 })
	if n := len(tg.requests()); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
}

func TestRequireOK(t *testing.T) {
	tg := newTarget(t, status(200, `{"message":"Workflow was started"}`), status(200, `ok`), status(200, `{"ok":true}`))
	f := start(t, tg.srv.URL, options{})
	f.d.cfg.RequireOK = true
	f.enqueue(t, loadgen.Spec{Group: "g"})
	waitFor(t, "delivery", func() bool { return count(f.m.Delivered) == 1 })
	if n := len(tg.requests()); n != 3 {
		t.Fatalf("%d requests, want 3: only {\"ok\":true} is success", n)
	}
}

func TestBodyError(t *testing.T) {
	cases := map[string]bool{
		``: false, `Workflow was started`: false, `{"message":"Workflow was started"}`: false,
		`{"ok":true}`: false, `{"error":null}`: false, `{"error":""}`: false, `{"errors":[]}`: false, `{"error":false}`: false,
		`{"ok":false}`: true, `{"error":"x"}`: true, `{"error":{"code":1}}`: true, `{"errors":["x"]}`: true, `{"error":true}`: true,
		// Names match exactly; a repeated member counts by its last value.
		`{"OK":false}`: false, `{"Error":"x"}`: false, `{"ok":true,"ok":false}`: true, `{"error":"x","error":null}`: false,
		` {"ok" : false} `: true, "{\"error\":\"\xff\"}": true, `{"ok":false`: false,
	}
	for body, fail := range cases {
		if got := readAnswer([]byte(body)).failed(); got != fail {
			t.Errorf("%s: failure=%v want %v", body, got, fail)
		}
	}
}

func TestBodyOK(t *testing.T) {
	cases := map[string]bool{
		`{"ok":true}`: true, "{ \"ok\" : true }\n": true, `{"ok":true,"message":"x"}`: true,
		`{"ok":"true"}`: false, `{"OK":true}`: false, `{"ok":false}`: false, `{}`: false, `ok`: false, ``: false, `{"ok":true`: false,
	}
	for body, want := range cases {
		if got := readAnswer([]byte(body)).okTrue(); got != want {
			t.Errorf("%s: ok=%v want %v", body, got, want)
		}
	}
}

func TestDeadAfterMaxAgeThenReplay(t *testing.T) {
	var mu sync.Mutex
	healthy := false
	tg := newTarget(t, func(w http.ResponseWriter) {
		mu.Lock()
		ok := healthy
		mu.Unlock()
		if ok {
			status(200, `{}`)(w)
			return
		}
		status(400, "bad request")(w) // message-level: the breaker stays closed
	})
	f := start(t, tg.srv.URL, options{maxAge: 30 * time.Millisecond})
	id := f.enqueue(t, loadgen.Spec{Group: "g"})
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
	mu.Lock()
	healthy = true
	mu.Unlock()
	if _, err := f.st.Replay(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	f.d.Wake()
	waitFor(t, "replayed delivery", func() bool { return count(f.m.Delivered) == 1 })
	got := tg.requests()
	if last := got[len(got)-1]; last.key != id || !last.body.Replayed || len(got) != before+1 {
		t.Fatalf("replay sent key %q (want %q) replayed=%v, %d requests after %d", last.key, id, last.body.Replayed, len(got), before)
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

// With the target down and a large outbox, the deliverer holds at most
// Workers leases sending plus 4*Workers being recorded: the backlog stays
// on disk.
func TestBoundedWhileTargetDown(t *testing.T) {
	tg := newTarget(t, status(503, "down"))
	f := start(t, tg.srv.URL, options{})
	var wg sync.WaitGroup
	for w := range 32 { // concurrent, so group commit batches the inserts
		wg.Go(func() {
			for i := range 2000 / 32 {
				if _, err := f.st.Enqueue(context.Background(), notif(t, loadgen.Spec{Group: fmt.Sprint("g", w, "-", i)})); err != nil {
					t.Error(err) // not Fatal: off the test goroutine
					return
				}
			}
		})
	}
	wg.Wait()
	f.d.Wake()
	waitFor(t, "200 failed attempts", func() bool { return count(f.m.Retries) >= 200 })
	if limit := int64(4 + 4*4); f.d.MaxHeld() > limit {
		t.Fatalf("held %d messages in memory, bound is %d", f.d.MaxHeld(), limit)
	}
	if f.st.Depth() != 2000/32*32 {
		t.Fatalf("depth %d, want all %d still on disk", f.st.Depth(), 2000/32*32)
	}
	t.Logf("%d pending, at most %d in memory", f.st.Depth(), f.d.MaxHeld())
}
