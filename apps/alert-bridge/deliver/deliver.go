// Package deliver sends outbox messages to the target webhook (n8n) with
// at-least-once semantics: a message leaves the outbox only after a
// successful attempt, every attempt carries the message id as
// Idempotency-Key, failures are retried with exponential backoff and full
// jitter, and a message failing for longer than MaxAge is parked as a dead
// letter.
//
// Order: the outbox hands out one lease per alert group, so a group's
// states go out one after the other while different groups are delivered
// in parallel by Workers.
//
// Recovery: a circuit breaker over the target stops sending after
// consecutive target failures and probes it with one message at a time;
// the first probe that succeeds closes the breaker and makes every pending
// group due at once, so a backlog drains at the target's pace instead of
// waiting out each message's backoff.
//
// Store failures: when an outcome cannot be recorded (a full disk), the
// message is not sent again; its outcome is retried with backoff while
// the group stays claimed, and the failure is counted and logged once per
// retry, never in a hot loop.
package deliver

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/enrich"
	"github.com/unsilo/unsilo/apps/alert-bridge/metrics"
	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// Enricher adds runbook passages and the evidence link; it must not block
// for long and never fails.
type Enricher interface {
	Enrich(ctx context.Context, n *payload.Notification) enrich.Result
}

// Config wires a Deliverer.
type Config struct {
	Queue          outbox.Queue
	URL            string            // target webhook (n8n)
	Headers        map[string]string // extra headers, e.g. n8n header auth
	Client         *http.Client
	Enricher       Enricher // optional
	Workers        int      // concurrent attempts; default 8
	BaseBackoff    time.Duration
	MaxBackoff     time.Duration
	MaxAge         time.Duration // then dead letter; default 24h
	AttemptTimeout time.Duration // one POST; default 30s
	Poll           time.Duration // re-scan interval when idle; default 1s
	// BreakerThreshold consecutive target failures open the breaker
	// (default 5); probes then run every ProbeMin, doubling to ProbeMax
	// (defaults 250ms and 5s) until one succeeds.
	BreakerThreshold   int
	ProbeMin, ProbeMax time.Duration
	// StoreRetryMax caps the backoff of recording an outcome the store
	// could not write. Default 30s.
	StoreRetryMax time.Duration
	// RequireOK: only a JSON body with "ok": true is success. The shipped
	// n8n workflow always answers so; any other 2xx (n8n answering before
	// the workflow ran, a proxy's page) is then retried, not trusted.
	RequireOK bool
	Log       *slog.Logger
	Metrics   *metrics.Metrics // optional
	Now       func() time.Time
}

// Deliverer runs the delivery loop.
type Deliverer struct {
	cfg     Config
	wake    chan struct{}
	breaker *breaker
	sending atomic.Int64 // leases in the HTTP phase (<= Workers)
	held    atomic.Int64 // leases claimed and not yet settled
	maxHeld atomic.Int64
}

// New builds a Deliverer.
func New(cfg Config) *Deliverer {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 24 * time.Hour
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 30 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.BreakerThreshold <= 0 {
		cfg.BreakerThreshold = 5
	}
	if cfg.ProbeMin <= 0 {
		cfg.ProbeMin = 250 * time.Millisecond
	}
	if cfg.ProbeMax < cfg.ProbeMin {
		cfg.ProbeMax = max(5*time.Second, cfg.ProbeMin)
	}
	if cfg.StoreRetryMax <= 0 {
		cfg.StoreRetryMax = 30 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Deliverer{cfg: cfg, wake: make(chan struct{}, 1)}
	d.breaker = newBreaker(cfg.BreakerThreshold, cfg.ProbeMin, cfg.ProbeMax, cfg.Now)
	return d
}

// Wake tells the loop new messages are due (non-blocking).
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// BreakerOpen reports whether the target is considered down.
func (d *Deliverer) BreakerOpen() bool { return d.breaker.state() != closed }

// MaxHeld is the most leases (messages in memory) held at once so far.
func (d *Deliverer) MaxHeld() int64 { return d.maxHeld.Load() }

// Run delivers until ctx is cancelled, then waits for attempts in flight.
func (d *Deliverer) Run(ctx context.Context) error {
	work := make(chan outbox.Lease)
	// Recording an outcome waits for a group commit; it runs in its own
	// goroutine so a worker can start the next send meanwhile. settleSlots
	// bounds those goroutines (and so the leases held beyond the sends).
	settleSlots := make(chan struct{}, 4*d.cfg.Workers)
	var wg, settles sync.WaitGroup
	for range d.cfg.Workers {
		wg.Go(func() {
			for l := range work {
				outcome := d.attempt(ctx, l)
				settleSlots <- struct{}{}
				d.sending.Add(-1)
				d.Wake()
				settles.Go(func() {
					defer func() { <-settleSlots; d.held.Add(-1); d.Wake() }()
					d.settle(ctx, l, outcome)
				})
			}
		})
	}
	defer func() {
		close(work)
		wg.Wait()
		settles.Wait()
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := d.cfg.Poll
		if n, probe, w := d.capacity(); n > 0 {
			leases, hint, err := d.cfg.Queue.Due(ctx, n)
			if err != nil {
				d.cfg.Log.Error("scan outbox", "err", err)
			}
			if probe && len(leases) == 0 && err == nil && d.cfg.Queue.Depth() > 0 {
				// Everything pending is backing off: make it due so the
				// probe has a message (only the probe is sent while open).
				if err := d.cfg.Queue.Expedite(ctx); err != nil {
					d.cfg.Log.Error("expedite for probe", "err", err)
				}
				leases, hint, _ = d.cfg.Queue.Due(ctx, n)
			}
			if probe && len(leases) > 0 {
				d.breaker.probing()
			}
			for _, l := range leases {
				d.sending.Add(1)
				if h := d.held.Add(1); h > d.maxHeld.Load() {
					d.maxHeld.Store(h)
				}
				select {
				case work <- l:
				case <-ctx.Done():
					l.Release()
					d.sending.Add(-1)
					d.held.Add(-1)
					return nil
				}
			}
			if len(leases) < n {
				wait = min(wait, hint) // 0: a long-polling queue, ask again now
			}
		} else if w > 0 {
			wait = min(wait, w)
		}
		timer.Reset(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// capacity is how many leases to claim now: the free workers while the
// breaker is closed, one probe when a probe is due, none otherwise (then
// wait is when the next probe is due).
func (d *Deliverer) capacity() (n int, probe bool, wait time.Duration) {
	free := d.cfg.Workers - int(d.sending.Load())
	if free <= 0 {
		return 0, false, 0
	}
	switch st, w := d.breaker.permit(); st {
	case closed:
		return free, false, 0
	case halfOpen:
		return 1, true, 0
	default:
		return 0, false, w
	}
}

// Backoff is the full-jitter delay before retry number attempt (0-based):
// uniform in [0, min(max, base*2^attempt)).
func Backoff(attempt int, base, maxDelay time.Duration) time.Duration {
	ceil := maxDelay
	if attempt < 40 {
		if c := base << attempt; c > 0 && c < maxDelay {
			ceil = c
		}
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil)
}
