// Package deliver sends outbox messages to the target webhook (n8n) with
// at-least-once semantics: a message leaves the outbox only after a
// successful attempt, every attempt carries the message id as
// Idempotency-Key, failures are retried with exponential backoff and full
// jitter, and a message failing for longer than MaxAge is parked as a dead
// letter. Memory is bounded by Workers: the schedule lives on disk.
package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/enrich"
	"github.com/unsilo/unsilo/apps/alert-bridge/metrics"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
	"github.com/unsilo/unsilo/apps/alert-bridge/store"
)

// Enricher adds runbook passages and the evidence link; it must not block
// for long and never fails.
type Enricher interface {
	Enrich(ctx context.Context, n *payload.Notification) enrich.Result
}

// Config wires a Deliverer.
type Config struct {
	Store          *store.Store
	URL            string            // target webhook (n8n)
	Headers        map[string]string // extra headers, e.g. n8n header auth
	Client         *http.Client
	Enricher       Enricher // optional
	Workers        int      // concurrent attempts; default 8
	BaseBackoff    time.Duration
	MaxBackoff     time.Duration
	MaxAge         time.Duration // then dead letter; default 24h
	AttemptTimeout time.Duration // default 10s
	Poll           time.Duration // re-scan interval when idle; default 1s
	Log            *slog.Logger
	Metrics        *metrics.Metrics // optional
	Now            func() time.Time
}

// Outbound is the JSON body POSTed to the target.
type Outbound struct {
	ID         string    `json:"id"`
	Source     string    `json:"source"`
	Status     string    `json:"status"`
	AlertName  string    `json:"alertname"`
	Severity   string    `json:"severity"`
	Team       string    `json:"team"`
	Summary    string    `json:"summary"`
	GroupKey   string    `json:"groupKey"`
	ReceivedAt time.Time `json:"receivedAt"`
	Attempt    int       `json:"attempt"`
	enrich.Result
	Notification *payload.Notification `json:"notification"`
}

// Deliverer runs the delivery loop.
type Deliverer struct {
	cfg  Config
	wake chan struct{}

	mu       sync.Mutex
	inflight map[string]bool // sending or recording the outcome
	sending  int             // in the HTTP phase (<= Workers)
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
		cfg.AttemptTimeout = 10 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
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
	return &Deliverer{cfg: cfg, wake: make(chan struct{}, 1), inflight: map[string]bool{}}
}

// Wake tells the loop new messages are due (non-blocking).
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Deliverer) isInflight(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inflight[id]
}

// Run delivers until ctx is cancelled, then waits for attempts in flight.
func (d *Deliverer) Run(ctx context.Context) error {
	work := make(chan *store.Message)
	finished := make(chan struct{}, 1)
	signal := func() {
		select {
		case finished <- struct{}{}:
		default:
		}
	}
	// Recording an outcome waits for a group commit; it runs in its own
	// goroutine so a worker can start the next send meanwhile. recordSlots
	// bounds those goroutines; a message stays in flight until recorded,
	// so it is never picked up twice.
	recordSlots := make(chan struct{}, 4*d.cfg.Workers)
	var wg, records sync.WaitGroup
	for range d.cfg.Workers {
		wg.Go(func() {
			for m := range work {
				record := func() {}
				// A scan snapshot can predate the commit of this message's
				// previous outcome: never send such a stale copy.
				if d.cfg.Store.Current(m) {
					record = d.attempt(ctx, m)
				}
				recordSlots <- struct{}{}
				d.mu.Lock()
				d.sending--
				d.mu.Unlock()
				signal()
				records.Go(func() {
					record()
					<-recordSlots
					d.mu.Lock()
					delete(d.inflight, m.ID)
					d.mu.Unlock()
					signal()
				})
			}
		})
	}
	defer func() {
		close(work)
		wg.Wait()
		records.Wait()
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		d.mu.Lock()
		free := d.cfg.Workers - d.sending
		d.mu.Unlock()
		wait := d.cfg.Poll
		if free > 0 {
			msgs, err := d.cfg.Store.Due(d.cfg.Now(), free, d.isInflight)
			if err != nil {
				d.cfg.Log.Error("scan outbox", "err", err)
			}
			for _, m := range msgs {
				d.mu.Lock()
				d.inflight[m.ID] = true
				d.sending++
				d.mu.Unlock()
				select {
				case work <- m:
				case <-ctx.Done():
					return nil
				}
			}
			if len(msgs) < free {
				if next, ok, err := d.cfg.Store.NextDue(); err == nil && ok {
					if w := next.Sub(d.cfg.Now()); w < wait {
						wait = max(w, time.Millisecond)
					}
				}
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-finished:
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

// attempt sends m and returns the function recording the outcome.
func (d *Deliverer) attempt(ctx context.Context, m *store.Message) (record func()) {
	start := d.cfg.Now()
	err := d.send(ctx, m)
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.AttemptLatency.Observe(time.Since(start).Seconds())
	}
	if err != nil && ctx.Err() != nil {
		// Shutting down: leave the message due; it is retried on restart
		// with the same Idempotency-Key.
		return func() {}
	}
	return func() { d.record(ctx, m, err) }
}

func (d *Deliverer) record(ctx context.Context, m *store.Message, err error) {
	// Outcome writes must land even while shutting down.
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := d.cfg.Now()
	log := d.cfg.Log.With("id", m.ID, "attempt", m.Attempts+1)
	switch {
	case err == nil:
		if serr := d.cfg.Store.Delivered(octx, m); serr != nil {
			log.Error("record delivery", "err", serr)
			return
		}
		if d.cfg.Metrics != nil {
			d.cfg.Metrics.Delivered.Inc()
			d.cfg.Metrics.DeliveryLatency.Observe(now.Sub(m.ReceivedAt).Seconds())
		}
		log.Debug("delivered")
	case now.Sub(m.AgeFrom) >= d.cfg.MaxAge:
		if serr := d.cfg.Store.Bury(octx, m, err.Error()); serr != nil {
			log.Error("park dead letter", "err", serr)
			return
		}
		if d.cfg.Metrics != nil {
			d.cfg.Metrics.Dead.Inc()
		}
		log.Warn("dead letter: max age reached", "err", err, "age", now.Sub(m.AgeFrom).String())
	default:
		next := now.Add(Backoff(m.Attempts, d.cfg.BaseBackoff, d.cfg.MaxBackoff))
		if serr := d.cfg.Store.Retry(octx, m, next, err.Error()); serr != nil {
			log.Error("reschedule", "err", serr)
			return
		}
		if d.cfg.Metrics != nil {
			d.cfg.Metrics.Retries.Inc()
		}
		log.Info("delivery failed, retrying", "err", err, "next", next)
	}
}

// ErrRejected marks a response the target considers a failure.
var ErrRejected = errors.New("target rejected the notification")

func (d *Deliverer) send(ctx context.Context, m *store.Message) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.AttemptTimeout)
	defer cancel()
	n := m.Notification
	out := Outbound{
		ID: m.ID, Source: string(n.Source), Status: n.Status, AlertName: n.AlertName(), Severity: n.Severity(),
		Team: n.Team(), Summary: n.Summary(), GroupKey: n.GroupKey, ReceivedAt: m.ReceivedAt, Attempt: m.Attempts + 1,
		Notification: n,
	}
	if d.cfg.Enricher != nil {
		out.Result = d.cfg.Enricher.Enrich(ctx, n)
	}
	body, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode outbound %s: %w", m.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.ID)
	for k, v := range d.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%w: HTTP %d: %s", ErrRejected, resp.StatusCode, snippet(raw))
	}
	if reason := bodyError(raw); reason != "" {
		return fmt.Errorf("%w: HTTP %d with error body: %s", ErrRejected, resp.StatusCode, reason)
	}
	return nil
}

// bodyError reports why a 2xx body is a failure: a JSON object with
// "ok": false, or an "error"/"errors" member that is not null, false, ""
// or empty. Non-JSON bodies (n8n's "Workflow was started") are success.
func bodyError(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return ""
	}
	if ok, has := obj["ok"]; has && string(ok) == "false" {
		return snippet(raw)
	}
	for _, k := range []string{"error", "errors"} {
		v, has := obj[k]
		if !has {
			continue
		}
		switch string(bytes.TrimSpace(v)) {
		case "null", "false", `""`, "[]", "{}":
			continue
		}
		return snippet(raw)
	}
	return ""
}

func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
