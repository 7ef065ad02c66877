package store

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
	"github.com/unsilo/unsilo/apps/alert-bridge/membudget"
	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
)

func due(t *testing.T, s *Store, max int) []outbox.Lease {
	t.Helper()
	l, _, err := s.Due(context.Background(), max)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestOneLeasePerGroup(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{})
	defer s.Close()
	ctx := context.Background()
	fire := enqueue(t, s, notif(t, "g", "firing", 0, 1)).ID
	l := due(t, s, 10)
	if len(l) != 1 || l[0].Message().ID != fire {
		t.Fatalf("first claim: %v", l)
	}
	res := enqueue(t, s, notif(t, "g", "resolved", 0, 1)).ID
	if got := due(t, s, 10); len(got) != 0 {
		t.Fatalf("a second lease on a group in flight: %s", got[0].Message().ID)
	}
	if err := l[0].Delivered(ctx); err != nil {
		t.Fatal(err)
	}
	l = due(t, s, 10)
	if len(l) != 1 || l[0].Message().ID != res || l[0].Message().Superseded != 0 {
		t.Fatalf("after the firing was delivered: %v", l)
	}
	if err := l[0].Delivered(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Depth() != 0 || len(due(t, s, 10)) != 0 {
		t.Fatalf("depth %d after both delivered", s.Depth())
	}
}

// States that pile up while a group cannot be delivered collapse into the
// newest one: the receiver gets the current state, never an older one
// after it.
func TestSupersededStatesCollapse(t *testing.T) {
	superseded := 0
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{OnSuperseded: func(n int) { superseded += n }})
	defer s.Close()
	ctx := context.Background()
	enqueue(t, s, notif(t, "g", "firing", 0, 1))
	l := due(t, s, 1)[0] // out for delivery
	enqueue(t, s, notif(t, "g", "firing", 0, 2))
	enqueue(t, s, notif(t, "g", "firing", 0, 3))
	last := enqueue(t, s, notif(t, "g", "resolved", 0, 3)).ID
	if s.Depth() != 2 || superseded != 2 {
		t.Fatalf("depth %d superseded %d: want the leased state and the newest", s.Depth(), superseded)
	}
	if err := l.Retry(ctx, time.Now(), "HTTP 503"); err != nil {
		t.Fatal(err)
	}
	l = due(t, s, 1)[0]
	m := l.Message()
	if m.ID != last || m.Superseded != 3 || m.Attempts != 1 || m.LastError != "HTTP 503" || m.Notification.Status != "resolved" {
		t.Fatalf("after retry: %+v", m)
	}
	if err := l.Delivered(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Depth() != 0 {
		t.Fatalf("depth %d", s.Depth())
	}
}

func TestRetrySchedulesGroup(t *testing.T) {
	clk := newClock()
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{Now: clk.Now})
	defer s.Close()
	enqueue(t, s, notif(t, "a", "firing", 0, 1))
	enqueue(t, s, notif(t, "b", "firing", 0, 1))
	l := due(t, s, 1)[0]
	failed := l.Message().Notification.GroupKey
	if err := l.Retry(context.Background(), clk.Now().Add(time.Minute), "down"); err != nil {
		t.Fatal(err)
	}
	got, wait, err := s.Due(context.Background(), 10)
	if err != nil || len(got) != 1 || got[0].Message().Notification.GroupKey == failed || wait != time.Minute {
		t.Fatalf("due %v wait %v err %v: want only the other group, %s due in 1m", got, wait, err, failed)
	}
	clk.Add(time.Minute)
	if got := due(t, s, 10); len(got) != 1 || got[0].Message().Notification.GroupKey != failed {
		t.Fatalf("%s not due after its backoff: %v", failed, got)
	}
}

func TestExpedite(t *testing.T) {
	clk := newClock()
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{Now: clk.Now})
	defer s.Close()
	parallel(1200, func(i int) { enqueue(t, s, notif(t, fmt.Sprint(i), "firing", 0, 1)) })
	leases := due(t, s, 1200)
	parallel(len(leases), func(i int) {
		if err := leases[i].Retry(context.Background(), clk.Now().Add(time.Duration(1+rand.IntN(300))*time.Second), "down"); err != nil {
			t.Error(err)
		}
	})
	if got := due(t, s, 10); len(got) != 0 {
		t.Fatalf("%d due while backing off", len(got))
	}
	if err := s.Expedite(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := due(t, s, 5000); len(got) != 1200 {
		t.Fatalf("%d of 1200 due after expedite", len(got))
	}
}

// Run with small bodies and with bodies over a page, which the store keeps
// in buckets of their own (values.go).
func TestBuryReplayRetention(t *testing.T) {
	for _, alerts := range []int{1, 100} {
		t.Run(fmt.Sprintf("alerts=%d", alerts), func(t *testing.T) { testBuryReplayRetention(t, alerts) })
	}
}

func testBuryReplayRetention(t *testing.T, alerts int) {
	clk := newClock()
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{Now: clk.Now})
	defer s.Close()
	ctx := context.Background()
	id := enqueue(t, s, notif(t, "g", "firing", 0, alerts)).ID
	if err := due(t, s, 1)[0].Bury(ctx, "HTTP 404"); err != nil {
		t.Fatal(err)
	}
	if s.Depth() != 0 || s.DeadCount() != 1 {
		t.Fatalf("depth %d dead %d", s.Depth(), s.DeadCount())
	}
	// The group moves on while its old state is parked.
	enqueue(t, s, notif(t, "g", "resolved", 0, alerts))
	live := due(t, s, 1)[0]
	if _, err := s.Replay(ctx, []string{id}); err != nil {
		t.Fatal(err)
	}
	// The replayed state is its own group: it neither waits for nor
	// overtakes the live one.
	l := due(t, s, 10)
	if len(l) != 1 || l[0].Message().ID != id || !l[0].Message().Replayed || l[0].Message().Attempts != 0 {
		t.Fatalf("replayed lease %+v", l)
	}
	if want := loadgen.Body(loadgen.Spec{Group: "g", Status: "firing", Alerts: alerts}); !bytes.Equal(l[0].Message().Notification.Raw, want) {
		t.Fatalf("replayed body of %d bytes differs from the %d sent", len(l[0].Message().Notification.Raw), len(want))
	}
	l[0].Delivered(ctx)
	live.Delivered(ctx)
	if s.Depth() != 0 || s.DeadCount() != 0 {
		t.Fatalf("depth %d dead %d", s.Depth(), s.DeadCount())
	}
	// Retention: dead letters older than it go.
	for i := range 3 {
		enqueue(t, s, notif(t, fmt.Sprint(i), "firing", 0, alerts))
		due(t, s, 1)[0].Bury(ctx, "x")
		clk.Add(24 * time.Hour)
	}
	// Parked at T, T+24h and T+48h; now T+72h.
	n, err := s.PruneDead(ctx, 36*time.Hour)
	if err != nil || n != 2 || s.DeadCount() != 1 {
		t.Fatalf("pruned %d (%v), dead %d: want 2 and 1", n, err, s.DeadCount())
	}
	if _, err := s.Replay(ctx, []string{"nope"}); err == nil {
		t.Fatal("replay of an unknown id succeeded")
	}
}

func TestLeaseBudget(t *testing.T) {
	b := membudget.New(100 << 10)
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{Budget: b})
	defer s.Close()
	for i := range 4 {
		enqueue(t, s, notif(t, fmt.Sprint(i), "firing", 0, 50)) // ~45 KB each
	}
	l := due(t, s, 4)
	if len(l) != 2 || b.InUse() > b.Total() {
		t.Fatalf("%d leases holding %d bytes of a %d budget", len(l), b.InUse(), b.Total())
	}
	l[0].Release()
	l[1].Release()
	if b.InUse() != 0 {
		t.Fatalf("released leases still hold %d bytes", b.InUse())
	}
}

// Many groups, each receiving states in order, delivered by concurrent
// workers with random failures: no group's receiver ever sees an older
// state after a newer one, none sees a state twice, and every group ends
// on its last state. Under -race this also covers stale scan snapshots.
func TestOrderUnderConcurrency(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const groups, states = 40, 25
	var mu sync.Mutex
	lastSeen := map[string]int{} // group -> last episode delivered
	var wg sync.WaitGroup
	for g := range groups {
		wg.Go(func() {
			for e := range states {
				enqueue(t, s, notif(t, fmt.Sprint(g), "firing", e, 1))
			}
		})
	}
	var workers sync.WaitGroup
	work := make(chan outbox.Lease)
	for range 8 {
		workers.Go(func() {
			for l := range work {
				if rand.IntN(4) == 0 {
					l.Retry(ctx, time.Now(), "flaky")
					continue
				}
				m := l.Message()
				ep := int(m.Notification.First.StartsAt.Sub(notif(t, "x", "firing", 0, 1).First.StartsAt) / time.Minute)
				mu.Lock()
				prev, seen := lastSeen[m.Notification.GroupKey]
				if seen && ep <= prev {
					t.Errorf("group %s: episode %d delivered after %d", m.Notification.GroupKey, ep, prev)
				}
				lastSeen[m.Notification.GroupKey] = ep
				mu.Unlock()
				if err := l.Delivered(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ls, wait, err := s.Due(ctx, 8)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			work <- l
		}
		mu.Lock()
		done := len(lastSeen) == groups
		for _, ep := range lastSeen {
			done = done && ep == states-1
		}
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every group reached its last state: %v", lastSeen)
		}
		time.Sleep(min(wait+time.Millisecond, 2*time.Millisecond)) // polling interval
	}
	close(work)
	workers.Wait()
	wg.Wait()
}

// parallel runs fn(0..n-1) on 32 goroutines, so the writer batches them
// into few fsync'd commits.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range 32 {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
