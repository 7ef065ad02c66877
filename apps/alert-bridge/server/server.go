// Package server is alert-bridge's HTTP surface: the two webhook
// receivers, health and readiness, metrics and the admin endpoints for
// dead letters. A webhook is answered 200 only after its notification is
// durable (or recognised as a duplicate of one that is).
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
	"github.com/unsilo/unsilo/apps/alert-bridge/metrics"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
	"github.com/unsilo/unsilo/apps/alert-bridge/store"
)

// Config wires the handler.
type Config struct {
	Store *store.Store
	// AlertmanagerAuth guards /v1/alertmanager (Alertmanager's
	// http_config.authorization sends "Bearer <credentials>").
	AlertmanagerAuth auth.Bearer
	// GrafanaHMAC guards /v1/grafana; GrafanaBearer optionally too (the
	// contact point's Authorization header settings).
	GrafanaHMAC   auth.HMAC
	GrafanaBearer auth.Bearer
	// AdminAuth guards /v1/admin/*; an empty token disables those routes.
	AdminAuth auth.Bearer
	MaxBody   int64 // bytes; default 1 MiB
	// MaxInFlight bounds concurrent webhook requests (and so the bodies in
	// memory); beyond it the answer is 503 with Retry-After. Default 1024.
	MaxInFlight  int
	StoreTimeout time.Duration // max wait for the durable commit; default 5s
	Metrics      *metrics.Metrics
	Registry     *prometheus.Registry
	Log          *slog.Logger
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
		cfg.MaxBody = 1 << 20
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 1024
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = 5 * time.Second
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
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "outboxDepth": cfg.Store.Depth(), "deadLetters": cfg.Store.DeadCount()})
	})
	if cfg.Registry != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	}
	if cfg.AdminAuth.Token != "" {
		s.mux.HandleFunc("GET /v1/admin/dead", s.admin(s.listDead))
		s.mux.HandleFunc("POST /v1/admin/replay", s.admin(s.replay))
	}
	return s
}

// SetReady flips /readyz.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Ack is the body of a 200 answer to a webhook.
type Ack struct {
	Status string `json:"status"` // "stored" or "duplicate"
	ID     string `json:"id"`
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
	writeJSON(w, code, apiError{Error: msg})
}

func (s *Server) webhook(src payload.Source) http.HandlerFunc {
	decode := payload.DecodeAlertmanager
	if src == payload.SourceGrafana {
		decode = payload.DecodeGrafana
	}
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		default:
			w.Header().Set("Retry-After", "1")
			s.reject(w, src, http.StatusServiceUnavailable, "busy", "too many requests in flight, retry")
			return
		}
		log := s.cfg.Log.With("source", src)
		// Headers-only checks first: no body is read for a bad token.
		bearer := s.cfg.AlertmanagerAuth
		if src == payload.SourceGrafana {
			bearer = s.cfg.GrafanaBearer
		}
		if err := bearer.Check(r.Header); err != nil {
			log.Warn("rejected webhook", "reason", "auth", "err", err, "remote", r.RemoteAddr)
			s.reject(w, src, http.StatusUnauthorized, "auth", err.Error())
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				s.reject(w, src, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over %d bytes", s.cfg.MaxBody))
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
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.StoreTimeout)
		defer cancel()
		res, err := s.cfg.Store.Enqueue(ctx, n)
		if err != nil {
			// Not acknowledged: the sender retries, dedupe absorbs a copy
			// that did commit.
			log.Error("store webhook", "err", err)
			s.reject(w, src, http.StatusServiceUnavailable, "store", "not stored, retry")
			return
		}
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
}

func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.cfg.AdminAuth.Check(r.Header); err != nil {
			writeJSON(w, http.StatusUnauthorized, apiError{Error: err.Error()})
			return
		}
		h(w, r)
	}
}

func (s *Server) listDead(w http.ResponseWriter, _ *http.Request) {
	msgs, err := s.cfg.Store.DeadLetters(1000)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{Error: err.Error()})
		return
	}
	if msgs == nil {
		msgs = []*store.Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deadLetters": msgs})
}

// ReplayRequest is POST /v1/admin/replay's body: ids, or all.
type ReplayRequest struct {
	IDs []string `json:"ids"`
	All bool     `json:"all"`
}

// ReplayResponse lists the re-queued ids.
type ReplayResponse struct {
	Replayed []string `json:"replayed"`
}

func (s *Server) replay(w http.ResponseWriter, r *http.Request) {
	var req ReplayRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields() // our own closed schema
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "malformed replay request: " + err.Error()})
		return
	}
	if req.All == (len(req.IDs) > 0) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "give either ids or all:true"})
		return
	}
	ids, err := s.cfg.Store.Replay(r.Context(), req.IDs)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, store.ErrNotFound) {
			code = http.StatusNotFound
		}
		writeJSON(w, code, apiError{Error: err.Error()})
		return
	}
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Replayed.Add(float64(len(ids)))
	}
	s.cfg.OnStored()
	writeJSON(w, http.StatusOK, ReplayResponse{Replayed: append([]string{}, ids...)})
}
