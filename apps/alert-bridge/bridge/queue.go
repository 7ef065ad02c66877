package bridge

import (
	"context"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/membudget"
	"github.com/unsilo/unsilo/apps/alert-bridge/metrics"
	"github.com/unsilo/unsilo/apps/alert-bridge/store"
)

// SQSConfig selects the SQS FIFO outbox (see package sqsbox).
type SQSConfig struct {
	QueueURL, DeadQueueURL string
	LargeBodyBucket        string // S3 bucket for bodies over the SQS message limit
	MaxMessage             int    // SQS message size limit (default 1 MiB)
	Region                 string
	Endpoint, S3Endpoint   string // overrides (tests)
}

// openQueue opens the configured outbox. st is the embedded store (nil
// for SQS), which also serves the admin endpoints and housekeeping.
func openQueue(ctx context.Context, c Config, budget *membudget.Budget, m func() *metrics.Metrics) (queue, *store.Store, error) {
	if c.SQS != nil {
		q, err := openSQS(ctx, c, budget, m)
		return q, nil, err
	}
	st, err := store.Open(c.DB, store.Options{DedupeWindow: c.DedupeWindow, DedupeMaxGroups: c.DedupeMaxGroups, Budget: budget,
		OnCommit: func(n int, d time.Duration) {
			if mt := m(); mt != nil {
				mt.CommitBatch.Observe(float64(n))
				mt.CommitLatency.Observe(d.Seconds())
			}
			if c.OnCommit != nil {
				c.OnCommit(n, d)
			}
		},
		OnSuperseded: func(n int) {
			if mt := m(); mt != nil {
				mt.Superseded.Add(float64(n))
			}
		}})
	if err != nil {
		return nil, nil, err
	}
	return st, st, nil
}
