package deadman

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{t: time.Date(2026, 12, 1, 10, 0, 30, 0, time.UTC)} }
func statuses(ns []*payload.Notification) (out []string) {
	for _, n := range ns {
		out = append(out, n.Status)
	}
	return out
}

// Silence for After raises the bridge's own alert once; the next
// Watchdog resolves it; a failed raise is retried on the next check.
func TestSwitch(t *testing.T) {
	clk := newClock()
	var raised []*payload.Notification
	fail := true
	s := New(Config{After: 5 * time.Minute, Now: clk.now, Log: slog.New(slog.DiscardHandler), Raise: func(_ context.Context, n *payload.Notification) error {
		if fail {
			fail = false
			return errors.New("outbox closed")
		}
		raised = append(raised, n)
		return nil
	}})
	ctx := context.Background()
	steps := []struct {
		name      string
		advance   time.Duration
		heartbeat bool
		want      []string
	}{
		{"grace period after start", 4 * time.Minute, false, nil},
		{"heartbeat", 0, true, nil},
		{"4m59s of silence", 4*time.Minute + 59*time.Second, false, nil},
		{"5m: raise fails (outbox)", time.Second, false, nil},
		{"next check raises", time.Second, false, []string{"firing"}},
		{"still silent: raised once", time.Minute, false, []string{"firing"}},
		{"Watchdog back: resolved", 0, true, []string{"firing", "resolved"}},
		{"healthy again", time.Minute, true, []string{"firing", "resolved"}},
	}
	for _, st := range steps {
		clk.add(st.advance)
		if st.heartbeat {
			s.Heartbeat()
		}
		s.Check(ctx)
		if got := statuses(raised); len(got) != len(st.want) || (len(got) > 0 && got[len(got)-1] != st.want[len(st.want)-1]) {
			t.Fatalf("%s: raised %v, want %v", st.name, got, st.want)
		}
	}
	f, r := raised[0], raised[1]
	if f.AlertName != AlertName || f.Severity != "critical" || f.Source != payload.SourceBridge || f.GroupID != r.GroupID || f.DedupeKey == r.DedupeKey {
		t.Fatalf("firing %+v resolved %+v", f, r)
	}
	// The body is an Alertmanager webhook message that decodes as one.
	var m webhook.Message
	if err := json.Unmarshal(f.Raw, &m); err != nil || m.Version != "4" || len(m.Alerts) != 1 || m.NotificationReason != "dead_mans_switch" {
		t.Fatalf("raw %s: %v", f.Raw, err)
	}
}

// Two replicas that saw the same silence raise the same episode, so a
// shared outbox (SQS FIFO's deduplication) keeps one.
func TestSameSilenceSameEpisode(t *testing.T) {
	var keys []payload.Digest
	for _, offset := range []time.Duration{0, 7 * time.Second} {
		clk := newClock()
		s := New(Config{After: 5 * time.Minute, Now: clk.now, Raise: func(_ context.Context, n *payload.Notification) error {
			keys = append(keys, n.DedupeKey)
			return nil
		}})
		s.Heartbeat()
		clk.add(5*time.Minute + offset)
		s.Check(context.Background())
	}
	if len(keys) != 2 || keys[0] != keys[1] {
		t.Fatalf("dedupe keys %v", keys)
	}
}

func TestIsHeartbeat(t *testing.T) {
	s := New(Config{After: time.Minute})
	for _, c := range []struct {
		n    payload.Notification
		want bool
	}{
		{payload.Notification{Source: payload.SourceAlertmanager, AlertName: "Watchdog", Status: "firing"}, true},
		{payload.Notification{Source: payload.SourceAlertmanager, AlertName: "Watchdog", Status: "resolved"}, false},
		{payload.Notification{Source: payload.SourceGrafana, AlertName: "Watchdog", Status: "firing"}, false},
		{payload.Notification{Source: payload.SourceAlertmanager, AlertName: "PodCrashLooping", Status: "firing"}, false},
	} {
		if got := s.IsHeartbeat(&c.n); got != c.want {
			t.Errorf("%+v: %v, want %v", c.n, got, c.want)
		}
	}
}
