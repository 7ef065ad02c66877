package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unsilo/unsilo/apps/alert-bridge/auth"
	"github.com/unsilo/unsilo/apps/alert-bridge/metrics"
	"github.com/unsilo/unsilo/apps/alert-bridge/store"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type env struct {
	srv *Server
	st  *store.Store
	url string
	now time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := prometheus.NewRegistry()
	now := time.Now()
	s := New(Config{
		Queue: st, Admin: st, AlertmanagerAuth: auth.Bearer{Token: "am-token"}, AdminAuth: auth.Bearer{Token: "admin"},
		GrafanaHMAC: auth.HMAC{Secret: "gr-secret", MaxSkew: time.Minute, Now: func() time.Time { return now }},
		MaxBody:     64 << 10, Registry: reg, Log: slog.New(slog.DiscardHandler),
		Metrics: metrics.New(reg, metrics.Gauges{OutboxDepth: func() float64 { return float64(st.Depth()) }}),
	})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &env{srv: s, st: st, url: ts.URL, now: now}
}

func (e *env) post(t *testing.T, path string, body []byte, h map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func (e *env) grafanaHeaders(body []byte, ts time.Time, secret string) map[string]string {
	sec := strconv.FormatInt(ts.Unix(), 10)
	return map[string]string{auth.DefaultSignatureHeader: auth.Sign(secret, sec, body), auth.DefaultTimestampHeader: sec}
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	am := fixture(t, "alertmanager-v4-firing.json")
	gr := fixture(t, "grafana-default-firing.json")
	cases := []struct {
		name    string
		path    string
		body    []byte
		headers map[string]string
		code    int
		reason  string
	}{
		{"alertmanager good bearer", "/v1/alertmanager", am, map[string]string{"Authorization": "Bearer am-token"}, 200, ""},
		{"alertmanager bad bearer", "/v1/alertmanager", am, map[string]string{"Authorization": "Bearer nope"}, 401, "bad bearer token"},
		{"alertmanager no bearer", "/v1/alertmanager", am, nil, 401, "missing Authorization"},
		{"grafana good hmac", "/v1/grafana", gr, e.grafanaHeaders(gr, e.now, "gr-secret"), 200, ""},
		{"grafana bad hmac", "/v1/grafana", gr, e.grafanaHeaders(gr, e.now, "wrong"), 401, "signature mismatch"},
		{"grafana stale hmac", "/v1/grafana", gr, e.grafanaHeaders(gr, e.now.Add(-2*time.Minute), "gr-secret"), 401, "stale signature"},
		{"grafana no signature", "/v1/grafana", gr, nil, 401, "missing X-Grafana-Alerting-Signature"},
		{"grafana signature over other body", "/v1/grafana", gr, e.grafanaHeaders(am, e.now, "gr-secret"), 401, "signature mismatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := e.post(t, c.path, c.body, c.headers)
			if code != c.code || !strings.Contains(body, c.reason) {
				t.Fatalf("got %d %s, want %d containing %q", code, body, c.code, c.reason)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	e := newEnv(t)
	bearer := map[string]string{"Authorization": "Bearer am-token"}
	am := string(fixture(t, "alertmanager-v4-firing.json"))
	cases := []struct {
		name, body, reason string
		code               int
	}{
		{"empty", "", "empty body", 400},
		{"not json", "hello", "must be a JSON object", 400},
		{"truncated", am[:len(am)/2], "malformed JSON", 400},
		{"wrong version", strings.Replace(am, `"version": "4"`, `"version": "2"`, 1), "unsupported Alertmanager webhook version", 400},
		{"status typo", strings.Replace(am, `"status": "firing",
  "alerts"`, `"status": "fire",
  "alerts"`, 1), "status must be", 400},
		{"labels wrong type", strings.Replace(am, `"severity": "critical",
        "team"`, `"severity": 3,
        "team"`, 1), "expected string", 400},
		{"too large", `{"version":"4","pad":"` + strings.Repeat("x", 70<<10) + `"}`, "is over --max-body", 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := e.post(t, "/v1/alertmanager", []byte(c.body), bearer)
			if code != c.code || !strings.Contains(body, c.reason) {
				t.Fatalf("got %d %s, want %d containing %q", code, body, c.code, c.reason)
			}
			var ae apiError
			if err := json.Unmarshal([]byte(body), &ae); err != nil || ae.Error == "" {
				t.Fatalf("error body %q is not {\"error\":...}", body)
			}
		})
	}
	if e.st.Depth() != 0 {
		t.Fatalf("malformed requests stored %d messages", e.st.Depth())
	}
}

func TestHAPairAndResolved(t *testing.T) {
	e := newEnv(t)
	bearer := map[string]string{"Authorization": "Bearer am-token"}
	steps := []struct {
		file, status string
	}{
		{"alertmanager-v4-firing.json", "stored"},
		{"alertmanager-v4-firing.json", "duplicate"}, // the HA peer
		{"alertmanager-v4-resolved.json", "stored"},
		{"alertmanager-v4-resolved.json", "duplicate"},
	}
	var firstID string
	for i, st := range steps {
		code, body := e.post(t, "/v1/alertmanager", fixture(t, st.file), bearer)
		var ack Ack
		if code != 200 || json.Unmarshal([]byte(body), &ack) != nil || ack.Status != st.status {
			t.Fatalf("step %d (%s): %d %s, want %s", i, st.file, code, body, st.status)
		}
		if i == 0 {
			firstID = ack.ID
		}
		if i == 1 && ack.ID != firstID {
			t.Fatalf("duplicate points at %s, want %s", ack.ID, firstID)
		}
	}
	if e.st.Depth() != 2 {
		t.Fatalf("depth %d, want 2", e.st.Depth())
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	e := newEnv(t)
	get := func(path string) (int, string) {
		resp, err := http.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if c, _ := get("/healthz"); c != 200 {
		t.Fatalf("healthz %d", c)
	}
	if c, _ := get("/readyz"); c != 503 {
		t.Fatalf("readyz before SetReady: %d", c)
	}
	e.srv.SetReady(true)
	if c, _ := get("/readyz"); c != 200 {
		t.Fatalf("readyz %d", c)
	}
	e.post(t, "/v1/alertmanager", fixture(t, "alertmanager-v4-firing.json"), map[string]string{"Authorization": "Bearer am-token"})
	e.post(t, "/v1/alertmanager", fixture(t, "alertmanager-v4-firing.json"), map[string]string{"Authorization": "Bearer am-token"})
	e.post(t, "/v1/alertmanager", []byte("{"), map[string]string{"Authorization": "Bearer am-token"})
	_, m := get("/metrics")
	for _, want := range []string{
		`alert_bridge_received_total{source="alertmanager"} 1`,
		`alert_bridge_deduped_total{source="alertmanager"} 1`,
		`alert_bridge_rejected_total{reason="decode",source="alertmanager"} 1`,
		`alert_bridge_outbox_depth 1`,
		`alert_bridge_ack_seconds_count{source="alertmanager"} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestAdminReplay(t *testing.T) {
	e := newEnv(t)
	_, body := e.post(t, "/v1/alertmanager", fixture(t, "alertmanager-v4-firing.json"), map[string]string{"Authorization": "Bearer am-token"})
	var ack Ack
	json.Unmarshal([]byte(body), &ack)
	leases, _, err := e.st.Due(context.Background(), 1)
	if err != nil || len(leases) != 1 || leases[0].Message().ID != ack.ID {
		t.Fatalf("due: %v %v", leases, err)
	}
	if err := leases[0].Bury(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	admin := map[string]string{"Authorization": "Bearer admin"}
	if code, _ := e.post(t, "/v1/admin/replay", []byte(`{"all":true}`), nil); code != 401 {
		t.Fatalf("replay without token: %d", code)
	}
	if code, b := e.post(t, "/v1/admin/replay", []byte(`{}`), admin); code != 400 {
		t.Fatalf("empty replay: %d %s", code, b)
	}
	if code, b := e.post(t, "/v1/admin/replay", []byte(`{"ids":["nope"]}`), admin); code != 404 {
		t.Fatalf("unknown id: %d %s", code, b)
	}
	code, b := e.post(t, "/v1/admin/replay", []byte(`{"ids":["`+ack.ID+`"]}`), admin)
	if code != 200 || !strings.Contains(b, ack.ID) || e.st.Depth() != 1 || e.st.DeadCount() != 0 {
		t.Fatalf("replay: %d %s depth %d dead %d", code, b, e.st.Depth(), e.st.DeadCount())
	}
}

func TestBusy(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(Config{Queue: st, MaxInFlight: 1, Log: slog.New(slog.DiscardHandler)})
	s.slots <- struct{}{} // one request in flight
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/alertmanager", strings.NewReader(`{}`)))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
	<-s.slots
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/alertmanager", strings.NewReader(`{}`)))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("after the slot freed: %d %s", rec.Code, rec.Body.String())
	}
}
