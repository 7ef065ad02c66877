// Package server is rag-api's HTTP surface: /v1/ask, /v1/search,
// /v1/feedback, /healthz, /metrics and the embedded web UI. The same handler
// serves a long-running server and the Lambda adapter.
package server

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/unsilo/unsilo/apps/rag-api/answer"
	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

//go:embed ui
var uiFS embed.FS

// Retriever finds passages the user may see.
type Retriever interface {
	Search(ctx context.Context, q search.Query) ([]search.Hit, error)
}

// Identity resolves the caller's groups. A nil Identity means anonymous
// callers with no groups: they see public passages only.
type Identity interface {
	Groups(r *http.Request) (subject string, groups []string, err error)
}

// Config wires the server.
type Config struct {
	Retriever      Retriever
	Generator      answer.Generator
	Identity       Identity
	Log            *slog.Logger
	Feedback       func(ctx context.Context, fb Feedback) error
	MaxQuestion    int           // runes; default 2000
	RetrieveTimout time.Duration // per retrieval call; default 5s
	AnswerTimeout  time.Duration // per generation call; default 60s
	TopK           int           // passages given to the generator; default 5
	Registry       *prometheus.Registry
}

// Server is the HTTP handler.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

// New builds the handler.
func New(cfg Config) *Server {
	if cfg.MaxQuestion <= 0 {
		cfg.MaxQuestion = 2000
	}
	if cfg.RetrieveTimout <= 0 {
		cfg.RetrieveTimout = 5 * time.Second
	}
	if cfg.AnswerTimeout <= 0 {
		cfg.AnswerTimeout = 60 * time.Second
	}
	if cfg.TopK <= 0 {
		cfg.TopK = 5
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rag_api_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rag_api_request_seconds", Help: "Request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route"})
	cfg.Registry.MustRegister(s.reqs, s.latency)
	s.route("POST /v1/ask", "ask", s.ask)
	s.route("POST /v1/search", "search", s.search)
	s.route("POST /v1/feedback", "feedback", s.feedback)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	sub, _ := fs.Sub(uiFS, "ui")
	s.mux.Handle("GET /", http.FileServerFS(sub))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) { w.code = c; w.ResponseWriter.WriteHeader(c) }
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) route(pattern, name string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: 200}
		defer func() {
			if p := recover(); p != nil {
				// Never leak a stack trace to the caller; log it for us.
				s.cfg.Log.Error("handler panic", "route", name, "panic", p)
				writeError(sw, http.StatusInternalServerError, "internal error")
			}
			s.reqs.WithLabelValues(name, http.StatusText(sw.code)).Inc()
			s.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
		}()
		h(sw, r)
	})
}

// apiError is the body of every 4xx/5xx.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// decode reads a bounded JSON body and rejects unknown fields with a reason.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			writeError(w, http.StatusRequestEntityTooLarge, "request body over 1 MiB")
		default:
			writeError(w, http.StatusBadRequest, "malformed JSON body: "+err.Error())
		}
		return false
	}
	return true
}

func (s *Server) identity(w http.ResponseWriter, r *http.Request) ([]string, bool) {
	if s.cfg.Identity == nil {
		return nil, true
	}
	_, groups, err := s.cfg.Identity.Groups(r)
	if err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return nil, false
	}
	return groups, true
}

// buildFilter turns the request's filters into a predicate; unknown keys are errors.
func buildFilter(f map[string]string) (func(*doc.Chunk) bool, error) {
	if len(f) == 0 {
		return nil, nil
	}
	for k := range f {
		if k != "source" && k != "title" {
			return nil, errors.New("unknown filter " + quote(k) + " (supported: source, title)")
		}
	}
	src, title := f["source"], strings.ToLower(f["title"])
	return func(c *doc.Chunk) bool {
		if src != "" && !strings.HasPrefix(c.Source, src) {
			return false
		}
		if title != "" && !strings.Contains(strings.ToLower(c.Title), title) {
			return false
		}
		return true
	}, nil
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
