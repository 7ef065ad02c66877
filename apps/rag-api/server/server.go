// Package server is rag-api's HTTP surface: /v1/ask, /v1/search,
// /v1/preview, /v1/feedback, /v1/config, /healthz, /metrics and the embedded
// web UI. The same handler serves a long-running server and the Lambda
// adapter. Wire types are package api's.
package server

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/unsilo/unsilo/apps/rag-api/answer"
	"github.com/unsilo/unsilo/apps/rag-api/api"
	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/identity"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

//go:embed ui
var uiFS embed.FS

// Retriever finds passages the caller may see.
type Retriever interface {
	Search(ctx context.Context, q search.Query) ([]search.Hit, error)
}

// Identity verifies the caller. A nil Identity means anonymous callers with
// no groups: they see public passages only.
type Identity interface {
	Identify(r *http.Request) (identity.Principal, error)
}

// Chunks reads stored passages for previews (the embedded index).
type Chunks interface {
	Chunk(source string, ordinal int) (*doc.Chunk, error)
	FileChunks(source string) ([]*doc.Chunk, error)
}

// FeedbackRecord is feedback with who gave it.
type FeedbackRecord struct {
	api.Feedback
	Subject string    `json:"subject,omitempty"`
	Time    time.Time `json:"time"`
}

// Config wires the server.
type Config struct {
	Retriever Retriever
	Generator answer.Generator
	// Rewriter turns follow-ups into standalone queries (nil: searched as asked).
	Rewriter answer.Rewriter
	Identity Identity
	// Chunks serves /v1/preview (nil: previews are not available, e.g. with Kendra).
	Chunks          Chunks
	UI              api.UIConfig
	Log             *slog.Logger
	Feedback        func(ctx context.Context, fb FeedbackRecord) error
	MaxQuestion     int           // runes; default api.MaxQuestionRunes
	RetrieveTimeout time.Duration // per retrieval call; default 5s
	AnswerTimeout   time.Duration // per generation call; default 60s
	RewriteTimeout  time.Duration // per follow-up rewrite; default 10s
	TopK            int           // passages given to the generator; default 5
	Registry        *prometheus.Registry
}

// Server is the HTTP handler.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
	csp     string
}

// New builds the handler.
func New(cfg Config) *Server {
	if cfg.MaxQuestion <= 0 {
		cfg.MaxQuestion = api.MaxQuestionRunes
	}
	if cfg.RetrieveTimeout <= 0 {
		cfg.RetrieveTimeout = 5 * time.Second
	}
	if cfg.AnswerTimeout <= 0 {
		cfg.AnswerTimeout = 60 * time.Second
	}
	if cfg.RewriteTimeout <= 0 {
		cfg.RewriteTimeout = 10 * time.Second
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
	s := &Server{cfg: cfg, mux: http.NewServeMux(), csp: contentSecurityPolicy(cfg.UI)}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rag_api_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rag_api_request_seconds", Help: "Request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route"})
	cfg.Registry.MustRegister(s.reqs, s.latency)
	s.route("POST /v1/ask", "ask", s.ask)
	s.route("POST /v1/search", "search", s.search)
	s.route("POST /v1/feedback", "feedback", s.feedback)
	s.route("GET /v1/preview", "preview", s.preview)
	s.mux.HandleFunc("GET /v1/config", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, cfg.UI) })
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	sub, _ := fs.Sub(uiFS, "ui")
	files := http.FileServerFS(sub)
	s.mux.Handle("GET /", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", s.csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		files.ServeHTTP(w, r)
	}))
	return s
}

// contentSecurityPolicy lets the UI talk to this server and, when login is
// on, to the issuer's token endpoint; nothing else, and no framing.
func contentSecurityPolicy(ui api.UIConfig) string {
	connect := "'self'"
	if ui.OIDC != nil {
		if u, err := url.Parse(ui.OIDC.TokenEndpoint); err == nil && u.Host != "" {
			connect += " " + u.Scheme + "://" + u.Host
		}
	}
	return "default-src 'self'; connect-src " + connect + "; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
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

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, api.Error{Error: msg})
}

// maxBody bounds every request body.
const maxBody = 256 << 10

// decode reads one bounded JSON object, rejecting unknown fields and
// anything after the object, each with a reason.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if extra := dec.Decode(&struct{}{}); !errors.Is(extra, io.EOF) {
			writeError(w, http.StatusBadRequest, "malformed JSON body: data after the JSON object")
			return false
		}
		return true
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "request body over 256 KiB")
	default:
		writeError(w, http.StatusBadRequest, "malformed JSON body: "+err.Error())
	}
	return false
}

func (s *Server) identify(w http.ResponseWriter, r *http.Request) (identity.Principal, bool) {
	if s.cfg.Identity == nil {
		return identity.Principal{}, true
	}
	p, err := s.cfg.Identity.Identify(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="rag-api"`)
		writeError(w, http.StatusUnauthorized, err.Error())
		return p, false
	}
	return p, true
}

// buildFilter turns the request's filters into a predicate; unknown keys are errors.
func buildFilter(f map[string]string) (func(source, title string) bool, error) {
	if len(f) == 0 {
		return nil, nil
	}
	for k := range f {
		if k != "source" && k != "title" {
			return nil, errors.New("unknown filter " + quote(k) + " (supported: source, title)")
		}
	}
	src, title := f["source"], strings.ToLower(f["title"])
	return func(source, t string) bool {
		if src != "" && !strings.HasPrefix(source, src) {
			return false
		}
		if title != "" && !strings.Contains(strings.ToLower(t), title) {
			return false
		}
		return true
	}, nil
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
