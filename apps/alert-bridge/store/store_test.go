package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
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

// notif decodes a realistic Alertmanager body for group in state status;
// episode varies the alerts' startsAt (a new firing episode).
func notif(t testing.TB, group, status string, episode, alerts int) *payload.Notification {
	t.Helper()
	n, err := payload.DecodeAlertmanager(loadgen.Body(loadgen.Spec{Group: group, Status: status, Episode: episode, Alerts: alerts}))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func enqueue(t testing.TB, s *Store, n *payload.Notification) outbox.EnqueueResult {
	t.Helper()
	res, err := s.Enqueue(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestDedupe(t *testing.T) {
	clk := newClock()
	path := filepath.Join(t.TempDir(), "db")
	s := open(t, path, Options{DedupeWindow: time.Minute, Now: clk.Now})
	steps := []struct {
		name    string
		n       *payload.Notification
		advance time.Duration
		dup     bool
	}{
		{"first firing", notif(t, "g", "firing", 0, 2), 0, false},
		{"HA copy", notif(t, "g", "firing", 0, 2), 0, true},
		{"resolved", notif(t, "g", "resolved", 0, 2), 0, false},
		{"HA copy of resolved", notif(t, "g", "resolved", 0, 2), 0, true},
		{"re-fire, same episode, after resolve", notif(t, "g", "firing", 0, 2), 0, false},
		{"new episode of the same alerts", notif(t, "g", "firing", 1, 2), 0, false},
		{"a third alert joins", notif(t, "g", "firing", 1, 3), 0, false},
		{"another group, same alerts", notif(t, "h", "firing", 1, 3), 0, false},
		{"repeat after the window", notif(t, "h", "firing", 1, 3), 2 * time.Minute, false},
	}
	for _, st := range steps {
		clk.Add(st.advance)
		if got := enqueue(t, s, st.n).Duplicate; got != st.dup {
			t.Fatalf("%s: duplicate=%v, want %v", st.name, got, st.dup)
		}
	}
	// Dedupe survives a restart: a sender retrying after a crash between
	// commit and response gets "duplicate".
	s.Close()
	s = open(t, path, Options{DedupeWindow: time.Minute, Now: clk.Now})
	defer s.Close()
	if !enqueue(t, s, notif(t, "h", "firing", 1, 3)).Duplicate {
		t.Fatal("dedupe state lost on reopen")
	}
}

func TestDedupeIndexBounded(t *testing.T) {
	clk := newClock()
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{DedupeMaxGroups: 100, DedupeWindow: time.Hour, Now: clk.Now})
	defer s.Close()
	for i := range 300 { // one by one: the clock orders them
		clk.Add(time.Millisecond)
		enqueue(t, s, notif(t, fmt.Sprint(i), "firing", 0, 1))
	}
	if _, err := s.PruneDedupe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := s.DedupeGroups(); n > 100 {
		t.Fatalf("index holds %d groups, bound 100", n)
	}
	// The newest groups are the ones kept.
	if !enqueue(t, s, notif(t, "299", "firing", 0, 1)).Duplicate {
		t.Fatal("the newest group was forgotten")
	}
	if enqueue(t, s, notif(t, "0", "firing", 0, 1)).Duplicate {
		t.Fatal("the oldest group is still remembered past the bound")
	}
}

func TestReopenKeepsPending(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s := open(t, path, Options{})
	var ids []string
	for i := range 5 {
		ids = append(ids, enqueue(t, s, notif(t, fmt.Sprint(i), "firing", 0, 1)).ID)
	}
	inst := s.Instance()
	s.Close()
	s = open(t, path, Options{})
	defer s.Close()
	if s.Instance() != inst || s.Depth() != 5 {
		t.Fatalf("instance %s->%s depth %d", inst, s.Instance(), s.Depth())
	}
	leases, _, err := s.Due(context.Background(), 10)
	if err != nil || len(leases) != 5 {
		t.Fatalf("due after reopen: %d %v", len(leases), err)
	}
	for i, l := range leases {
		if l.Message().ID != ids[i] {
			t.Fatalf("lease %d is %s, want %s (oldest first)", i, l.Message().ID, ids[i])
		}
	}
	// The sequence continues: no id is reused.
	if id := enqueue(t, s, notif(t, "new", "firing", 0, 1)).ID; id <= ids[4] {
		t.Fatalf("new id %s does not follow %s", id, ids[4])
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
				if _, err := s.Enqueue(context.Background(), notif(t, fmt.Sprintf("%d-%d", w, i), "firing", 0, 1)); err != nil {
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
	if _, err := s.Enqueue(context.Background(), notif(t, "a", "firing", 0, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("enqueue after close: %v", err)
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

// A burst that was delivered leaves free pages; Open compacts a sparse
// file and keeps what is still pending.
func TestCompactOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s := open(t, path, Options{})
	parallel(200, func(i int) { enqueue(t, s, notif(t, fmt.Sprint(i), "firing", 0, 40)) }) // ~36 KB each
	leases, _, err := s.Due(context.Background(), 199)
	if err != nil {
		t.Fatal(err)
	}
	parallel(len(leases), func(i int) {
		if err := leases[i].Delivered(context.Background()); err != nil {
			t.Error(err)
		}
	})
	s.Close()
	before, _ := os.Stat(path)
	s = open(t, path, Options{CompactAbove: 1 << 20})
	defer s.Close()
	after, _ := os.Stat(path)
	if after.Size()*2 > before.Size() {
		t.Fatalf("file %d -> %d bytes: not compacted", before.Size(), after.Size())
	}
	if s.Depth() != 1 {
		t.Fatalf("depth %d after compaction, want 1", s.Depth())
	}
	t.Logf("compacted %d -> %d bytes", before.Size(), after.Size())
}

// A file written by the first schema (one outbox bucket of normalized
// notifications) opens with its pending messages and dead letters kept,
// under their ids.
func TestMigrateV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1 := func(id, group, status string, deadAt string) []byte {
		return fmt.Appendf(nil, "\x00\x00\x00\x00\x00\x00\x00\x01"+`{"id":%q,"groupId":"x","receivedAt":"2026-01-01T00:00:00Z","attempts":2,"deadAt":%q,`+
			`"notification":{"source":"alertmanager","version":"4","groupKey":%q,"status":%q,"receiver":"r","alerts":[{"status":%q,"labels":{"alertname":"A"},"fingerprint":"f","startsAt":"2026-01-01T00:00:00Z"}]}}`,
			id, deadAt, group, status, status)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket([]byte("meta"))
		meta.Put([]byte("instance"), []byte("abcdef012345"))
		ob, _ := tx.CreateBucket([]byte("outbox"))
		ob.SetSequence(3)
		ob.Put([]byte("abcdef012345-000000000001"), v1("abcdef012345-000000000001", "g1", "firing", "0001-01-01T00:00:00Z"))
		ob.Put([]byte("abcdef012345-000000000002"), v1("abcdef012345-000000000002", "g2", "resolved", "0001-01-01T00:00:00Z"))
		due, _ := tx.CreateBucket([]byte("due"))
		due.Put([]byte("\x00\x00\x00\x00\x00\x00\x00\x01abcdef012345-000000000001"), nil)
		dead, _ := tx.CreateBucket([]byte("dead"))
		dead.Put([]byte("abcdef012345-000000000003"), v1("abcdef012345-000000000003", "g3", "firing", "2026-01-02T00:00:00Z"))
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, path, Options{})
	defer s.Close()
	if s.Depth() != 2 || s.DeadCount() != 1 {
		t.Fatalf("depth %d dead %d, want 2 and 1", s.Depth(), s.DeadCount())
	}
	leases, _, err := s.Due(context.Background(), 10)
	if err != nil || len(leases) != 2 || leases[0].Message().ID != "abcdef012345-000000000001" || leases[0].Message().Notification.GroupKey != "g1" {
		t.Fatalf("migrated leases %v %v", leases, err)
	}
	dead, err := s.DeadLetters(10)
	if err != nil || len(dead) != 1 || dead[0].ID != "abcdef012345-000000000003" || dead[0].Attempts != 2 {
		t.Fatalf("migrated dead letters %+v %v", dead, err)
	}
	if id := enqueue(t, s, notif(t, "new", "firing", 0, 1)).ID; id != "abcdef012345-000000000004" {
		t.Fatalf("sequence after migration: %s", id)
	}
}

func BenchmarkEnqueueParallel(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "db"), Options{})
	defer s.Close()
	var n atomic.Int64
	bodies := make([]*payload.Notification, 4096)
	for i := range bodies {
		bodies[i] = notif(b, fmt.Sprint(i), "firing", 0, 1)
	}
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			nn := *bodies[i%4096]
			nn.DedupeKey[0] ^= byte(i) // distinct: nothing deduped
			nn.GroupID = payload.GroupIDOf("b", i, "", "")
			if _, err := s.Enqueue(context.Background(), &nn); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
}
