package deliver

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
	"github.com/unsilo/unsilo/apps/alert-bridge/store"
)

// flakyStore fails the first failures outcome writes, as a full disk does.
type flakyStore struct {
	*store.Store
	failures atomic.Int64
	tries    atomic.Int64
}

func (f *flakyStore) Due(ctx context.Context, n int) ([]outbox.Lease, time.Duration, error) {
	ls, w, err := f.Store.Due(ctx, n)
	for i, l := range ls {
		ls[i] = &flakyLease{Lease: l, s: f}
	}
	return ls, w, err
}

type flakyLease struct {
	outbox.Lease
	s *flakyStore
}

var errDiskFull = errors.New("write outbox.db: no space left on device")

func (l *flakyLease) Delivered(ctx context.Context) error {
	l.s.tries.Add(1)
	if l.s.failures.Add(-1) >= 0 {
		return errDiskFull
	}
	return l.Lease.Delivered(ctx)
}

// A delivery whose outcome cannot be recorded is not sent again: the
// record is retried with backoff (1 s doubling to StoreRetryMax, here
// 20 ms) and every failure is counted.
func TestOutcomeRetriedNotResent(t *testing.T) {
	tg := newTarget(t, status(http.StatusOK, `{"ok":true}`))
	var fs *flakyStore
	f := start(t, tg.srv.URL, options{wrap: func(st *store.Store) outbox.Queue {
		fs = &flakyStore{Store: st}
		fs.failures.Store(3)
		return fs
	}})
	f.d.cfg.StoreRetryMax = 20 * time.Millisecond
	f.enqueue(t, loadgen.Spec{Group: "g"})
	waitFor(t, "delivery recorded", func() bool { return count(f.m.Delivered) == 1 })
	if n := len(tg.requests()); n != 1 {
		t.Fatalf("%d POSTs for one notification whose outcome failed to record 3 times", n)
	}
	if got := count(f.m.StoreErrors.WithLabelValues("delivered")); got != 3 || fs.tries.Load() != 4 {
		t.Fatalf("store errors %v, tries %d: want 3 and 4", got, fs.tries.Load())
	}
	if f.st.Depth() != 0 {
		t.Fatalf("depth %d", f.st.Depth())
	}
}
