// Package server is alert-bridge's HTTP surface: the two webhook
// receivers, health and readiness, metrics and the admin endpoints for
// dead letters. A webhook is answered 200 only after its notification is
// durable (or recognised as a duplicate of one that is).
//
// Admission, in order, so a client that cannot be authentic costs
// nothing: credentials that need no body (bearer token, Grafana's
// signature header and timestamp), then a request slot, then the body's
// bytes from a memory budget shared with the deliverer, then the body
// itself under a read deadline proportional to its size.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/unsilo/unsilo/apps/alert-bridge/auth"
	"github.com/unsilo/unsilo/apps/alert-bridge/membudget"
	"github.com/unsilo/unsilo/apps/alert-bridge/metrics"
	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// Admin is what the admin endpoints need (the embedded store has it).
type Admin interface {
	DeadLetters(limit int) ([]*outbox.Message, error)
	Replay(ctx context.Context, ids []string) ([]string, error)
}

// Config wires the handler.
type Config struct {
	Queue outbox.Queue
	Admin Admin // optional: /v1/admin/* needs it and AdminAuth
	// AlertmanagerAuth guards /v1/alertmanager (Alertmanager's
	// http_config.authorization sends "Bearer <credentials>").
	AlertmanagerAuth auth.Bearer
	// GrafanaHMAC guards /v1/grafana; GrafanaBearer optionally too (the
	// contact point's Authorization header settings).
	GrafanaHMAC   auth.HMAC
	GrafanaBearer auth.Bearer
	// AdminAuth guards /v1/admin/*; an empty token disables those routes.
	AdminAuth auth.Bearer
	MaxBody   int64 // bytes; default 32 MiB
	// Budget bounds body bytes in memory across requests (each request
	// holds 2x its body: the buffer and the store's page copy at commit).
	// BudgetWait is how long a request waits for it before a 503.
	Budget     *membudget.Budget
	BudgetWait time.Duration // default 10s
	// MaxInFlight bounds concurrent authenticated webhook requests; beyond
	// it the answer is 503 with Retry-After. Default 1024.
	MaxInFlight int
	// MinBodyRate: a body must arrive at least this fast (bytes/s) after
	// BodyGrace, or the read fails. Defaults 256 KiB/s and 10s.
	MinBodyRate  int64
	BodyGrace    time.Duration
	StoreTimeout time.Duration // max wait for the durable commit; default 10s
	// Heartbeat, if set, receives Watchdog notifications instead of the
	// queue (the dead-man's switch); IsHeartbeat picks them.
	Heartbeat   func()
	IsHeartbeat func(*payload.Notification) bool
	Metrics     *metrics.Metrics
	Registry    *prometheus.Registry
	Log         *slog.Logger
	// OnStored is called after a new notification is durable (wakes the deliverer).
	OnStored func()
}

// Server is the HTTP handler.
type Server struct {
	cfg   Config
	mux   *http.ServeMux
	ready atomic.Bool
	slots chan struct{}
}

// New builds the handler. It starts not ready; call SetReady.
func New(cfg Config) *Server {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 32 << 20
	}
	if cfg.Budget == nil {
		cfg.Budget = membudget.New(4 * cfg.MaxBody)
	}
	if cfg.BudgetWait <= 0 {
		cfg.BudgetWait = 10 * time.Second
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 1024
	}
	if cfg.MinBodyRate <= 0 {
		cfg.MinBodyRate = 256 << 10
	}
	if cfg.BodyGrace <= 0 {
		cfg.BodyGrace = 10 * time.Second
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.OnStored == nil {
		cfg.OnStored = func() {}
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), slots: make(chan struct{}, cfg.MaxInFlight)}
	s.mux.HandleFunc("POST /v1/alertmanager", s.webhook(payload.SourceAlertmanager))
	s.mux.HandleFunc("POST /v1/grafana", s.webhook(payload.SourceGrafana))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if cfg.Registry != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	}
	if cfg.AdminAuth.Token != "" && cfg.Admin != nil {
		s.mux.HandleFunc("GET /v1/admin/dead", s.admin(s.listDead))
		s.mux.HandleFunc("POST /v1/admin/replay", s.admin(s.replay))
	}
	return s
}

// SetReady flips /readyz.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// readyz is 200 only while serving and while the outbox takes writes: a
// store that cannot commit takes the replica out of the Service, so
// senders retry elsewhere or later instead of getting 503s.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	body := map[string]any{"outboxDepth": s.cfg.Queue.Depth(), "deadLetters": s.cfg.Queue.DeadCount()}
	switch err := s.cfg.Queue.Healthy(); {
	case !s.ready.Load():
		body["status"] = "not ready"
		writeJSON(w, http.StatusServiceUnavailable, body)
	case err != nil:
		body["status"], body["error"] = "store failing", err.Error()
		writeJSON(w, http.StatusServiceUnavailable, body)
	default:
		body["status"] = "ready"
		writeJSON(w, http.StatusOK, body)
	}
}

// Ack is the body of a 200 answer to a webhook.
type Ack struct {
	Status string `json:"status"` // "stored", "duplicate" or "heartbeat"
	ID     string `json:"id,omitempty"`
}

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) reject(w http.ResponseWriter, src payload.Source, code int, reason, msg string) {
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Rejected.WithLabelValues(string(src), reason).Inc()
	}
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, code, apiError{Error: msg})
}

func (s *Server) webhook(src payload.Source) http.HandlerFunc {
	decode := payload.DecodeAlertmanager
	bearer := s.cfg.AlertmanagerAuth
	if src == payload.SourceGrafana {
		decode, bearer = payload.DecodeGrafana, s.cfg.GrafanaBearer
	}
	log := s.cfg.Log.With("source", src) // once: With formats its attributes
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// 1. Credentials that need no body: no slot, no memory yet.
		err := bearer.Check(r.Header)
		if err == nil && src == payload.SourceGrafana {
			err = s.cfg.GrafanaHMAC.PreCheck(r.Header)
		}
		if err != nil {
			log.Warn("rejected webhook", "reason", "auth", "err", err, "remote", r.RemoteAddr)
			s.reject(w, src, http.StatusUnauthorized, "auth", err.Error())
			return
		}
		if r.ContentLength > s.cfg.MaxBody {
			s.reject(w, src, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body of %d bytes is over --max-body %d", r.ContentLength, s.cfg.MaxBody))
			return
		}
		// 2. A request slot.
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		default:
			s.reject(w, src, http.StatusServiceUnavailable, "busy", "too many requests in flight, retry")
			return
		}
		// 3. Memory for the body: its buffer and the store's page copy.
		size := r.ContentLength
		if size < 0 {
			size = s.cfg.MaxBody // chunked: assume the worst
		}
		charge := 2 * (size + 4096)
		if !s.cfg.Budget.TryAcquire(charge) {
			ctx, cancel := context.WithTimeout(r.Context(), s.cfg.BudgetWait)
			err := s.cfg.Budget.Acquire(ctx, charge)
			cancel()
			if err != nil {
				s.budgetWait("rejected")
				s.reject(w, src, http.StatusServiceUnavailable, "memory", "memory budget for bodies exhausted, retry")
				return
			}
			s.budgetWait("admitted")
		}
		defer s.cfg.Budget.Release(charge)
		// 4. The body, under a deadline that a slow client cannot stretch.
		deadline := s.cfg.BodyGrace + time.Duration(size/s.cfg.MinBodyRate)*time.Second
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(deadline))
		body, err := readBody(r.Body, r.ContentLength, s.cfg.MaxBody)
		if err != nil {
			if errors.Is(err, errTooLarge) {
				s.reject(w, src, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over --max-body %d bytes", s.cfg.MaxBody))
				return
			}
			s.reject(w, src, http.StatusBadRequest, "read", "reading body: "+err.Error())
			return
		}
		if src == payload.SourceGrafana {
			if err := s.cfg.GrafanaHMAC.Check(r.Header, body); err != nil {
				log.Warn("rejected webhook", "reason", "auth", "err", err, "remote", r.RemoteAddr)
				s.reject(w, src, http.StatusUnauthorized, "auth", err.Error())
				return
			}
		}
		n, err := decode(body)
		if err != nil {
			log.Info("rejected webhook", "reason", "decode", "err", err)
			s.reject(w, src, http.StatusBadRequest, "decode", err.Error())
			return
		}
		if s.cfg.Heartbeat != nil && s.cfg.IsHeartbeat != nil && s.cfg.IsHeartbeat(n) {
			s.cfg.Heartbeat()
			if s.cfg.Metrics != nil {
				s.cfg.Metrics.Heartbeats.Inc()
			}
			writeJSON(w, http.StatusOK, Ack{Status: "heartbeat"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.StoreTimeout)
		defer cancel()
		res, err := s.cfg.Queue.Enqueue(ctx, n)
		if err != nil {
			// Not acknowledged: the sender retries, dedupe absorbs a copy
			// that did commit.
			log.Error("store webhook", "err", err)
			s.reject(w, src, http.StatusServiceUnavailable, "store", "not stored, retry")
			return
		}
		s.acked(w, src, res, start)
	}
}

func (s *Server) acked(w http.ResponseWriter, src payload.Source, res outbox.EnqueueResult, start time.Time) {
	ack := Ack{Status: "stored", ID: res.ID}
	if res.Duplicate {
		ack.Status = "duplicate"
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.Deduped.WithLabelValues(string(src)).Inc()
		}
	} else {
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.Received.WithLabelValues(string(src)).Inc()
		}
		s.cfg.OnStored()
	}
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.AckLatency.WithLabelValues(string(src)).Observe(time.Since(start).Seconds())
	}
	writeJSON(w, http.StatusOK, ack)
}

func (s *Server) budgetWait(outcome string) {
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.BudgetWaits.WithLabelValues(outcome).Inc()
	}
}

var errTooLarge = errors.New("body too large")

// readBody reads the whole body into one buffer sized from Content-Length
// with room for the store's header, so neither decoding nor storing copies
// it again.
func readBody(r io.Reader, contentLength, maxBody int64) ([]byte, error) {
	const headroom = 2048
	if contentLength >= 0 {
		buf := make([]byte, contentLength, contentLength+headroom)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	buf := make([]byte, 0, 64<<10)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > maxBody {
			return nil, errTooLarge
		}
		if errors.Is(err, io.EOF) {
			return append(make([]byte, 0, len(buf)+headroom), buf...), nil
		}
		if err != nil {
			return nil, err
		}
	}
}
