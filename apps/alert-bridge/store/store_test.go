package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{t: time.Unix(1_800_000_000, 0)} }
func open(t testing.TB, path string, o Options) *Store {
	t.Helper()
	s, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pending(t testing.TB, s *Store, id string) *Message {
	t.Helper()
	m, err := s.Pending(id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func notif(group string, status string, fps ...string) *payload.Notification {
	n := &payload.Notification{Source: payload.SourceAlertmanager, Version: "4", GroupKey: group, Status: status}
	for _, fp := range fps {
		n.Alerts = append(n.Alerts, payload.Alert{Status: status, Fingerprint: fp, Labels: map[string]string{"alertname": "A", "fp": fp}})
	}
	return n
}

func TestDedupe(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{DedupeWindow: time.Minute, Now: clk.Now})
	defer s.Close()
	steps := []struct {
		name    string
		n       *payload.Notification
		advance time.Duration
		dup     bool
	}{
		{"first firing", notif("g", "firing", "a", "b"), 0, false},
		{"HA peer sends the same group, alerts reordered", notif("g", "firing", "b", "a"), time.Second, true},
		{"other group is independent", notif("h", "firing", "a", "b"), 0, false},
		{"resolved after firing is not a duplicate", notif("g", "resolved", "a", "b"), time.Second, false},
		{"HA peer's resolved is", notif("g", "resolved", "a", "b"), time.Second, true},
		{"firing again after resolved is new", notif("g", "firing", "a", "b"), time.Second, false},
		{"a new alert joining the group is new", notif("g", "firing", "a", "b", "c"), time.Second, false},
		{"same content after the window is new", notif("g", "firing", "a", "b", "c"), 2 * time.Minute, false},
	}
	ids := map[string]bool{}
	for _, st := range steps {
		clk.Add(st.advance)
		res, err := s.Enqueue(ctx, st.n)
		if err != nil {
			t.Fatal(err)
		}
		if res.Duplicate != st.dup {
			t.Fatalf("%s: duplicate=%v want %v", st.name, res.Duplicate, st.dup)
		}
		if st.dup && !ids[res.ID] {
			t.Fatalf("%s: duplicate of unknown id %s", st.name, res.ID)
		}
		ids[res.ID] = true
	}
	if got := s.Depth(); got != 6 {
		t.Fatalf("depth %d want 6", got)
	}
	clk.Add(2 * time.Minute)
	if n, err := s.PruneDedupe(ctx); err != nil || n != 6 {
		t.Fatalf("pruned %d (%v), want all 6 log entries", n, err)
	}
	if len(s.groups) != 0 {
		t.Fatalf("%d groups left in memory after the window", len(s.groups))
	}
}

func TestReopenKeepsPending(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s := open(t, path, Options{})
	var want []string
	for i := range 10 {
		res, err := s.Enqueue(ctx, notif(fmt.Sprint(i), "firing", "a"))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, res.ID)
	}
	if err := s.Delivered(ctx, pending(t, s, want[0])); err != nil {
		t.Fatal(err)
	}
	inst := s.Instance()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, Options{})
	defer s.Close()
	if s.Instance() != inst {
		t.Fatal("instance id changed on reopen")
	}
	if s.Depth() != 9 {
		t.Fatalf("depth %d after reopen, want 9", s.Depth())
	}
	due, err := s.Due(time.Now().Add(time.Hour), 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 9 || due[0].ID != want[1] || due[8].ID != want[9] {
		t.Fatalf("due after reopen: %d messages", len(due))
	}
	// The dedupe state is durable too.
	res, err := s.Enqueue(ctx, notif("3", "firing", "a"))
	if err != nil || !res.Duplicate || res.ID != want[3] {
		t.Fatalf("dedupe after reopen: %+v %v", res, err)
	}
	// New ids continue the sequence rather than reusing one.
	res, err = s.Enqueue(ctx, notif("new", "firing", "a"))
	if err != nil || res.ID <= want[9] {
		t.Fatalf("id %s not after %s (%v)", res.ID, want[9], err)
	}
}

func TestRetryBuryReplay(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{Now: clk.Now})
	defer s.Close()
	a, _ := s.Enqueue(ctx, notif("a", "firing", "1"))
	b, _ := s.Enqueue(ctx, notif("b", "firing", "1"))
	if err := s.Retry(ctx, pending(t, s, a.ID), clk.Now().Add(time.Minute), "boom"); err != nil {
		t.Fatal(err)
	}
	due, _ := s.Due(clk.Now(), 10, nil)
	if len(due) != 1 || due[0].ID != b.ID {
		t.Fatalf("due now: %v", due)
	}
	due, _ = s.Due(clk.Now().Add(time.Minute), 10, func(id string) bool { return id == b.ID })
	if len(due) != 1 || due[0].ID != a.ID || due[0].Attempts != 1 || due[0].LastError != "boom" {
		t.Fatalf("due later: %+v", due)
	}
	if next, ok, _ := s.NextDue(); !ok || !next.Equal(clk.Now()) {
		t.Fatalf("next due %v %v", next, ok)
	}
	if err := s.Bury(ctx, pending(t, s, a.ID), "too old"); err != nil {
		t.Fatal(err)
	}
	if err := s.Bury(ctx, pending(t, s, b.ID), "too old"); err != nil {
		t.Fatal(err)
	}
	if s.Depth() != 0 || s.DeadCount() != 2 {
		t.Fatalf("depth %d dead %d", s.Depth(), s.DeadCount())
	}
	dead, _ := s.DeadLetters(10)
	if len(dead) != 2 || dead[0].Attempts != 2 || dead[0].DeadAt.IsZero() {
		t.Fatalf("dead letters: %+v", dead[0])
	}
	clk.Add(time.Hour)
	got, err := s.Replay(ctx, []string{b.ID})
	if err != nil || len(got) != 1 {
		t.Fatalf("replay one: %v %v", got, err)
	}
	if _, err := s.Replay(ctx, []string{"nope"}); err == nil {
		t.Fatal("replayed an unknown id")
	}
	got, err = s.Replay(ctx, nil)
	if err != nil || len(got) != 1 || got[0] != a.ID {
		t.Fatalf("replay all: %v %v", got, err)
	}
	due, _ = s.Due(clk.Now(), 10, nil)
	if len(due) != 2 || due[0].Attempts != 0 || !due[0].AgeFrom.Equal(clk.Now()) {
		t.Fatalf("replayed: %+v", due)
	}
	if s.Depth() != 2 || s.DeadCount() != 0 {
		t.Fatalf("depth %d dead %d", s.Depth(), s.DeadCount())
	}
}

func TestGroupCommitBatches(t *testing.T) {
	var commits, msgs atomic.Int64
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{OnCommit: func(n int, _ time.Duration) { commits.Add(1); msgs.Add(int64(n)) }})
	defer s.Close()
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := range 20 {
				if _, err := s.Enqueue(context.Background(), notif(fmt.Sprintf("%d-%d", w, i), "firing", "a")); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if s.Depth() != 640 || msgs.Load() != 640 {
		t.Fatalf("depth %d msgs %d", s.Depth(), msgs.Load())
	}
	if commits.Load() >= 640 {
		t.Fatalf("%d commits for 640 concurrent requests: no batching", commits.Load())
	}
	t.Logf("640 enqueues in %d commits", commits.Load())
}

func TestClosedStore(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{})
	s.Close()
	if _, err := s.Enqueue(context.Background(), notif("a", "firing", "1")); err == nil {
		t.Fatal("enqueue after close succeeded")
	}
}

func TestLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s := open(t, path, Options{})
	defer s.Close()
	if _, err := Open(path, Options{LockTimeout: 50 * time.Millisecond}); err == nil {
		t.Fatal("opened a file locked by another store")
	}
}

func BenchmarkEnqueueParallel(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "db"), Options{})
	defer s.Close()
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Enqueue(context.Background(), notif(fmt.Sprint(n.Add(1)), "firing", "a", "b")); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
}

// A scan snapshot older than a retry's commit yields a stale copy; writes
// through it must not create a second due key, and a due key without a
// matching message must not stall Due.
func TestStaleCopies(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{Now: clk.Now})
	defer s.Close()
	res, _ := s.Enqueue(ctx, notif("g", "firing", "1"))
	stale := pending(t, s, res.ID)
	if !s.Current(stale) {
		t.Fatal("fresh copy not current")
	}
	if err := s.Retry(ctx, stale, clk.Now().Add(time.Second), "first"); err != nil {
		t.Fatal(err)
	}
	if s.Current(stale) {
		t.Fatal("copy still current after a retry")
	}
	// A retry through the stale copy is ignored: still one schedule.
	if err := s.Retry(ctx, stale, clk.Now().Add(2*time.Second), "stale"); err != nil {
		t.Fatal(err)
	}
	if err := s.Bury(ctx, stale, "stale"); err != nil || s.DeadCount() != 0 {
		t.Fatalf("bury via stale copy: %v dead %d", err, s.DeadCount())
	}
	due, _ := s.Due(clk.Now().Add(time.Hour), 10, nil)
	if len(due) != 1 || due[0].LastError != "first" {
		t.Fatalf("due: %+v", due)
	}
	// Delivered through the stale copy removes the real schedule.
	if err := s.Delivered(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.Due(clk.Now().Add(time.Hour), 10, nil); len(due) != 0 || s.Depth() != 0 {
		t.Fatalf("after delivery: %d due, depth %d", len(due), s.Depth())
	}
	// An orphan due key (no message) is skipped, not an error, and cleaned.
	if err := s.submit(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bDue).Put(dueKey(clk.Now(), "orphan"), nil)
	}, nil); err != nil {
		t.Fatal(err)
	}
	res2, _ := s.Enqueue(ctx, notif("h", "firing", "1"))
	due, err := s.Due(clk.Now().Add(time.Hour), 10, nil)
	if err != nil || len(due) != 1 || due[0].ID != res2.ID {
		t.Fatalf("due with an orphan key: %v %v", due, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := 0
		s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bDue).Stats().KeyN; return nil })
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphan due key not cleaned: %d keys", n)
		}
		time.Sleep(time.Millisecond) // polling interval
	}
}
