// Package deadman is alert-bridge's dead-man's switch. Alertmanager's
// Watchdog alert always fires; routed to the bridge it arrives every
// repeat interval. When none has arrived for After, the pipeline in front
// of the bridge (Prometheus, its rules, Alertmanager, the route, the
// network) is broken, and the bridge raises its own alert to n8n; when the
// Watchdog comes back it sends the resolve.
package deadman

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// AlertName is the bridge's own alert.
const AlertName = "AlertBridgeDeadMansSwitch"

// Config wires a Switch.
type Config struct {
	After time.Duration // silence that trips the switch
	// Raise enqueues the bridge's notification (firing or resolved).
	Raise func(ctx context.Context, n *payload.Notification) error
	// WatchdogName is the heartbeat's alertname. Default "Watchdog".
	WatchdogName string
	Labels       map[string]string // added to the bridge's alert (severity, team)
	Log          *slog.Logger
	Now          func() time.Time
}

// Switch tracks heartbeats. Safe for concurrent use.
type Switch struct {
	cfg Config

	mu      sync.Mutex
	last    time.Time // last heartbeat (or start: a grace period)
	firedAt time.Time // zero while not fired
}

// New builds a Switch whose grace period starts now.
func New(cfg Config) *Switch {
	if cfg.WatchdogName == "" {
		cfg.WatchdogName = "Watchdog"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Switch{cfg: cfg, last: cfg.Now()}
}

// IsHeartbeat reports whether n is the Watchdog (from Alertmanager, firing).
func (s *Switch) IsHeartbeat(n *payload.Notification) bool {
	return n.Source == payload.SourceAlertmanager && n.AlertName == s.cfg.WatchdogName && n.Status == "firing"
}

// Heartbeat records a Watchdog.
func (s *Switch) Heartbeat() {
	s.mu.Lock()
	s.last = s.cfg.Now()
	s.mu.Unlock()
}

// Last is the time of the last heartbeat (the start time before any).
func (s *Switch) Last() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Run checks the switch every After/10 (at least every second) until ctx
// is done.
func (s *Switch) Run(ctx context.Context) error {
	t := time.NewTicker(max(s.cfg.After/10, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.Check(ctx)
		}
	}
}

// Check raises or resolves the bridge's alert if the heartbeat state
// changed since the last check.
func (s *Switch) Check(ctx context.Context) {
	s.mu.Lock()
	now, last, firedAt := s.cfg.Now(), s.last, s.firedAt
	s.mu.Unlock()
	silent := now.Sub(last) >= s.cfg.After
	switch {
	case silent && firedAt.IsZero():
		// startsAt is derived from the last heartbeat, so two replicas
		// that saw the same silence raise the same episode.
		starts := last.Add(s.cfg.After).Truncate(time.Minute)
		if s.raise(ctx, "firing", starts, time.Time{}, last) {
			s.mu.Lock()
			s.firedAt = starts
			s.mu.Unlock()
		}
	case !silent && !firedAt.IsZero():
		if s.raise(ctx, "resolved", firedAt, now, last) {
			s.mu.Lock()
			s.firedAt = time.Time{}
			s.mu.Unlock()
		}
	}
}

func (s *Switch) raise(ctx context.Context, status string, starts, ends, last time.Time) bool {
	n, err := Notification(status, starts, ends, last, s.cfg.After, s.cfg.WatchdogName, s.cfg.Labels)
	if err == nil {
		err = s.cfg.Raise(ctx, n)
	}
	if err != nil {
		s.cfg.Log.Error("dead-man's switch: cannot raise the alert; retrying", "status", status, "err", err)
		return false
	}
	s.cfg.Log.Warn("dead-man's switch", "status", status, "lastHeartbeat", last)
	return true
}

// Notification builds the bridge's own alert as an Alertmanager webhook
// body (notify/webhook.Message), decoded like any other, so n8n routes it
// with the same workflow.
func Notification(status string, starts, ends, last time.Time, after time.Duration, watchdog string, extra map[string]string) (*payload.Notification, error) {
	labels := template.KV{"alertname": AlertName, "severity": "critical", "team": "platform"}
	for k, v := range extra {
		labels[k] = v
	}
	summary := fmt.Sprintf("No %s notification for %s (last %s): Prometheus, Alertmanager or the route to alert-bridge is broken, and alerts are not arriving.",
		watchdog, after, last.UTC().Format(time.RFC3339))
	alert := template.Alert{Status: status, Labels: labels, StartsAt: starts.UTC(), EndsAt: ends.UTC(),
		Annotations: template.KV{"summary": summary}, Fingerprint: "alert-bridge-deadman"}
	msg := webhook.Message{Version: "4", GroupKey: "alert-bridge/" + AlertName, Data: &template.Data{
		Receiver: "alert-bridge", Status: status, Alerts: template.Alerts{alert},
		GroupLabels: template.KV{"alertname": AlertName}, CommonLabels: labels,
		CommonAnnotations: template.KV{"summary": summary}, NotificationReason: "dead_mans_switch"}}
	raw, err := json.Marshal(&msg)
	if err != nil {
		return nil, fmt.Errorf("encode dead-man's switch alert: %w", err)
	}
	n, err := payload.DecodeAlertmanager(raw)
	if err != nil {
		return nil, fmt.Errorf("dead-man's switch alert: %w", err)
	}
	n.Source = payload.SourceBridge
	n.GroupID = payload.GroupIDOf(n.Source, 0, n.Receiver, n.GroupKey)
	return n, nil
}
