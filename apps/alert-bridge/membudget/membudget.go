// Package membudget bounds the bytes alert-bridge holds for webhook bodies
// across every in-flight request and delivery attempt, so memory follows a
// byte budget rather than a request count.
package membudget

import (
	"context"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// Budget is a weighted semaphore over bytes. Safe for concurrent use.
type Budget struct {
	total int64
	sem   *semaphore.Weighted
	used  atomic.Int64
}

// New returns a budget of total bytes.
func New(total int64) *Budget {
	return &Budget{total: total, sem: semaphore.NewWeighted(total)}
}

// Total is the budget's size in bytes.
func (b *Budget) Total() int64 { return b.total }

// InUse is the bytes currently held.
func (b *Budget) InUse() int64 { return b.used.Load() }

// Acquire waits for n bytes (FIFO among waiters) until ctx is done. A
// request for more than the whole budget fails at once.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	if n > b.total {
		return fmt.Errorf("%d bytes exceed the whole memory budget of %d", n, b.total)
	}
	if err := b.sem.Acquire(ctx, n); err != nil {
		return fmt.Errorf("wait for %d bytes of memory budget: %w", n, err)
	}
	b.used.Add(n)
	return nil
}

// TryAcquire takes n bytes if they are free now.
func (b *Budget) TryAcquire(n int64) bool {
	if n > b.total || !b.sem.TryAcquire(n) {
		return false
	}
	b.used.Add(n)
	return true
}

// Release gives n bytes back.
func (b *Budget) Release(n int64) {
	if n <= 0 {
		return
	}
	b.used.Add(-n)
	b.sem.Release(n)
}
