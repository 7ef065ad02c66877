package deliver

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
)

// statusLog is a receiver that records, per group, the status of every
// notification it accepted, in arrival order.
type statusLog struct {
	mu     sync.Mutex
	seen   map[string][]string
	posts  atomic.Int64
	failAt func() bool // true: answer 503
}

func (s *statusLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.posts.Add(1)
	var o Outbound
	if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	if s.failAt() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	s.mu.Lock()
	s.seen[o.GroupKey] = append(s.seen[o.GroupKey], o.Status)
	s.mu.Unlock()
	w.Write([]byte(`{"ok":true}`))
}

func (s *statusLog) snapshot() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]string{}
	for k, v := range s.seen {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// The 40/40 case: the receiver fails while 40 groups fire, each group
// resolves later, and the receiver then recovers but stays flaky. Before
// per-group ordering, the retried firing went out after the resolved one
// and 40 of 40 groups ended FIRING downstream. Now every group ends
// RESOLVED and none sees firing after resolved.
func TestGroupsEndOnTheirLastState(t *testing.T) {
	began := time.Now()
	var down atomic.Bool
	down.Store(true)
	rec := &statusLog{seen: map[string][]string{}, failAt: func() bool {
		return down.Load() || rand.IntN(3) == 0 // flaky after recovery: order must hold through retries
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	f := start(t, srv.URL, options{workers: 8})
	const groups = 40
	for g := range groups {
		f.enqueue(t, loadgen.Spec{Group: fmt.Sprint("g", g), Status: "firing", Alerts: 2})
	}
	// The firings fail and back off (the scaled-down 15 s of the report).
	waitFor(t, "every firing attempted", func() bool { return rec.posts.Load() >= groups })
	for g := range groups {
		f.enqueue(t, loadgen.Spec{Group: fmt.Sprint("g", g), Status: "resolved", Alerts: 2})
	}
	down.Store(false)
	waitFor(t, "empty outbox", func() bool { return f.st.Depth() == 0 })
	endedResolved := 0
	for g, states := range rec.snapshot() {
		resolved := false
		for _, st := range states {
			if st == "firing" && resolved {
				t.Errorf("%s: firing delivered after resolved: %v", g, states)
			}
			resolved = resolved || st == "resolved"
		}
		if states[len(states)-1] == "resolved" {
			endedResolved++
		}
	}
	if endedResolved != groups {
		t.Fatalf("%d of %d groups ended RESOLVED downstream", endedResolved, groups)
	}
	t.Logf("%d of %d groups ended RESOLVED; %d POSTs; %v", endedResolved, groups, rec.posts.Load(), time.Since(began).Round(time.Millisecond))
}

// A target that is down trips the breaker: it is probed, not hammered,
// and once it answers the whole backlog is sent at once instead of each
// message waiting out its backoff.
func TestBreakerProbesThenDrains(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	rec := &statusLog{seen: map[string][]string{}, failAt: down.Load}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	f := start(t, srv.URL, options{workers: 8, probeMax: 20 * time.Millisecond})
	f.d.cfg.MaxBackoff = time.Hour // without expedite the backlog would wait for hours
	const backlog = 500
	var wg sync.WaitGroup
	for w := range 25 {
		wg.Go(func() {
			for i := range backlog / 25 {
				if _, err := f.st.Enqueue(context.Background(), notif(t, loadgen.Spec{Group: fmt.Sprint(w, "-", i)})); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	f.d.Wake()
	waitFor(t, "breaker open", f.d.BreakerOpen)
	time.Sleep(300 * time.Millisecond) // let it stay down a while: what is sent meanwhile is measured
	whileDown := rec.posts.Load()
	if whileDown > 100 {
		t.Fatalf("%d POSTs to a target that is down: the breaker did not hold them back", whileDown)
	}
	down.Store(false)
	recovered := time.Now()
	// Without the breaker's expedite the backlog would wait out MaxBackoff
	// (an hour); waitFor's deadline of seconds tells the two apart without
	// timing a machine that may be busy (8 s under -race at load 10).
	waitFor(t, "backlog drained", func() bool { return f.st.Depth() == 0 })
	took := time.Since(recovered)
	t.Logf("%d POSTs while down for 300 ms+; %d pending drained in %v after the target recovered", whileDown, backlog, took.Round(time.Millisecond))
}
