package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/unsilo/unsilo/apps/alert-bridge/enrich"
	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
)

// Outbound is the JSON body POSTed to the target: the routing summary,
// enrichment, and under "notification" the webhook exactly as its sender
// sent it (every field, including ones alert-bridge does not know).
type Outbound struct {
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Status          string    `json:"status"`
	AlertName       string    `json:"alertname"`
	Severity        string    `json:"severity"`
	Team            string    `json:"team"`
	Summary         string    `json:"summary"`
	GroupKey        string    `json:"groupKey"`
	Receiver        string    `json:"receiver"`
	OrgID           int64     `json:"orgId,omitempty"`
	Alerts          int       `json:"alerts"`
	Firing          int       `json:"firing"`
	TruncatedAlerts uint64    `json:"truncatedAlerts"`
	ReceivedAt      time.Time `json:"receivedAt"`
	Attempt         int       `json:"attempt"`
	// Superseded counts earlier pending states of the group that this one
	// replaced without being sent (the receiver was failing meanwhile).
	Superseded int  `json:"superseded"`
	Replayed   bool `json:"replayed,omitempty"`
	enrich.Result
	Notification json.RawMessage `json:"notification"`
}

// ErrRejected marks a response the target considers a failure.
var ErrRejected = errors.New("target rejected the notification")

type outcome struct {
	err        error
	targetDown bool // counts against the breaker
	shutdown   bool // cancelled by shutdown: leave it due
}

// attempt sends the lease's message once and feeds the breaker.
func (d *Deliverer) attempt(ctx context.Context, l outbox.Lease) outcome {
	start := time.Now()
	o := d.send(ctx, l.Message())
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.AttemptLatency.Observe(time.Since(start).Seconds())
	}
	if o.err != nil && ctx.Err() != nil {
		return outcome{err: o.err, shutdown: true}
	}
	if d.breaker.result(o.targetDown) {
		d.cfg.Log.Info("target answers again: breaker closed, pending groups due now")
		go func() {
			if err := d.cfg.Queue.Expedite(context.WithoutCancel(ctx)); err != nil {
				d.cfg.Log.Error("expedite after recovery", "err", err)
			}
			d.Wake()
		}()
	}
	return o
}

// settle records the outcome. If the store cannot record it, the message
// is not sent again: the same outcome is retried with backoff.
func (d *Deliverer) settle(ctx context.Context, l outbox.Lease, o outcome) {
	if o.shutdown {
		l.Release() // retried on restart with the same Idempotency-Key
		return
	}
	m := l.Message()
	// Not Log.With: that renders the attributes for every delivery, while
	// at the default level a delivered message logs nothing.
	log := func(level slog.Level, msg string, args ...any) {
		if d.cfg.Log.Enabled(ctx, level) {
			d.cfg.Log.Log(ctx, level, msg, append([]any{"id", m.ID, "attempt", m.Attempts + 1}, args...)...)
		}
	}
	now := d.cfg.Now()
	var op func(context.Context) error
	kind := "delivered"
	switch {
	case o.err == nil:
		op = l.Delivered
	case now.Sub(m.AgeFrom) >= d.cfg.MaxAge:
		kind = "dead"
		op = func(ctx context.Context) error { return l.Bury(ctx, o.err.Error()) }
	default:
		kind = "retry"
		next := now.Add(Backoff(m.Attempts, d.cfg.BaseBackoff, d.cfg.MaxBackoff))
		op = func(ctx context.Context) error { return l.Retry(ctx, next, o.err.Error()) }
	}
	delay := min(time.Second, d.cfg.StoreRetryMax)
	for {
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := op(octx)
		cancel()
		if err == nil {
			break
		}
		if d.cfg.Metrics != nil {
			d.cfg.Metrics.StoreErrors.WithLabelValues(kind).Inc()
		}
		log(slog.LevelError, "cannot record the delivery outcome; not resending, retrying the record", "outcome", kind, "err", err, "in", delay.String())
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			l.Release() // a delivered message is resent after restart, same key
			return
		}
		delay = min(2*delay, d.cfg.StoreRetryMax)
	}
	mt := d.cfg.Metrics
	switch kind {
	case "delivered":
		if mt != nil {
			mt.Delivered.Inc()
			mt.DeliveryLatency.Observe(now.Sub(m.ReceivedAt).Seconds())
		}
		log(slog.LevelDebug, "delivered", "superseded", m.Superseded)
	case "dead":
		if mt != nil {
			mt.Dead.Inc()
		}
		log(slog.LevelWarn, "dead letter: max age reached", "err", o.err, "age", now.Sub(m.AgeFrom).String())
	default:
		if mt != nil {
			mt.Retries.Inc()
		}
		log(slog.LevelInfo, "delivery failed, retrying", "err", o.err)
	}
}

// outbound renders the body: the summary as JSON, then the raw webhook
// streamed from the stored copy. The reader has no GetBody, so Go's
// transport never re-POSTs it on its own after a broken connection (it
// would for a replayable body carrying Idempotency-Key); retries are the
// deliverer's, with backoff and the same key.
func (d *Deliverer) outbound(ctx context.Context, m *outbox.Message) (io.Reader, int64, error) {
	n := &m.Notification
	out := Outbound{ID: m.ID, Source: string(n.Source), Status: n.Status, AlertName: n.AlertName, Severity: n.Severity,
		Team: n.Team, Summary: n.Summary, GroupKey: n.GroupKey, Receiver: n.Receiver, OrgID: n.OrgID, Alerts: n.Alerts,
		Firing: n.Firing, TruncatedAlerts: n.TruncatedAlerts, ReceivedAt: m.ReceivedAt, Attempt: m.Attempts + 1,
		Superseded: m.Superseded, Replayed: m.Replayed}
	if d.cfg.Enricher != nil {
		out.Result = d.cfg.Enricher.Enrich(ctx, n)
	}
	head, err := json.Marshal(out)
	if err != nil {
		return nil, 0, fmt.Errorf("encode outbound %s: %w", m.ID, err)
	}
	const tail = `null}` // Notification is nil here
	if !bytes.HasSuffix(head, []byte(tail)) {
		return nil, 0, fmt.Errorf("encode outbound %s: unexpected JSON tail", m.ID)
	}
	head = head[:len(head)-len(tail)]
	raw := n.Raw
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("null")
	}
	size := int64(len(head) + len(raw) + 1)
	if len(raw) > inlineBody {
		return io.MultiReader(bytes.NewReader(head), bytes.NewReader(raw), bytes.NewReader([]byte("}"))), size, nil
	}
	// One buffer: the transport takes a *bytes.Reader (send wraps it in
	// io.NopCloser, so still without GetBody) for an in-memory body and
	// writes headers and body in one write(2). A MultiReader made it flush
	// the headers first and write each part on its own: four syscalls per
	// delivery, each carrying the loopback's TCP path.
	buf := make([]byte, 0, size)
	buf = append(append(append(buf, head...), raw...), '}')
	return bytes.NewReader(buf), size, nil
}

// inlineBody is the largest webhook body copied into one buffer with the
// outbound summary; larger ones are streamed from the stored copy.
const inlineBody = 64 << 10

func (d *Deliverer) send(ctx context.Context, m *outbox.Message) outcome {
	// Enrichment has its own short budget and cache; the attempt timeout
	// is the POST's alone.
	body, size, err := d.outbound(ctx, m)
	if err != nil {
		return outcome{err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.URL, io.NopCloser(body))
	if err != nil {
		return outcome{err: fmt.Errorf("build request: %w", err)}
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.ID)
	for k, v := range d.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return outcome{err: fmt.Errorf("post: %w", err), targetDown: true}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return outcome{err: fmt.Errorf("read response: %w", err), targetDown: true}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return outcome{err: fmt.Errorf("%w: HTTP %d: %s", ErrRejected, resp.StatusCode, snippet(raw)), targetDown: targetDown(resp.StatusCode)}
	}
	a := readAnswer(raw)
	if a.failed() {
		return outcome{err: fmt.Errorf("%w: HTTP %d with error body: %s", ErrRejected, resp.StatusCode, snippet(raw))}
	}
	if d.cfg.RequireOK && !a.okTrue() {
		return outcome{err: fmt.Errorf("%w: HTTP %d without \"ok\": true (not the workflow's answer): %s", ErrRejected, resp.StatusCode, snippet(raw)), targetDown: true}
	}
	return outcome{}
}

// targetDown tells statuses that say the target cannot take anything now
// (the breaker's business) from ones about this one message.
func targetDown(code int) bool {
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true // misconfigured or inactive workflow, or overloaded: affects every message
	}
	return code >= 500
}

// answer is what a 2xx body says, read in one pass: whether it is a JSON
// object, and that object's "ok", "error" and "errors" members (names
// matched exactly, the last of repeated ones).
type answer struct {
	object bool
	OK     jsontext.Value `json:"ok"`
	Error  jsontext.Value `json:"error"`
	Errors jsontext.Value `json:"errors"`
}

var answerOptions = jsonv2.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// readAnswer decodes raw; a body that is not a JSON object (n8n's
// "Workflow was started") says nothing.
func readAnswer(raw []byte) answer {
	raw = bytes.TrimSpace(raw)
	var a answer
	if len(raw) == 0 || raw[0] != '{' || jsonv2.Unmarshal(raw, &a, answerOptions) != nil {
		return answer{}
	}
	a.object = true
	return a
}

// failed: the body is a JSON object with "ok": false, or with an
// "error"/"errors" member that is not null, false, "" or empty.
func (a answer) failed() bool {
	if !a.object {
		return false
	}
	if string(a.OK) == "false" {
		return true
	}
	for _, v := range []jsontext.Value{a.Error, a.Errors} {
		switch string(bytes.TrimSpace(v)) {
		case "", "null", "false", `""`, "[]", "{}":
			continue
		}
		return true
	}
	return false
}

// okTrue: the body is a JSON object with "ok": true.
func (a answer) okTrue() bool { return a.object && string(a.OK) == "true" }

func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
