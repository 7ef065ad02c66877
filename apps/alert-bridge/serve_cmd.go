package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/unsilo/unsilo/apps/alert-bridge/auth"
	"github.com/unsilo/unsilo/apps/alert-bridge/deliver"
	"github.com/unsilo/unsilo/apps/alert-bridge/enrich"
	"github.com/unsilo/unsilo/apps/alert-bridge/metrics"
	"github.com/unsilo/unsilo/apps/alert-bridge/server"
	"github.com/unsilo/unsilo/apps/alert-bridge/store"
)

type serveConfig struct {
	addr, db, logLevel                string
	targetURL                         string
	targetHeaders                     []string
	amToken, grafanaToken, adminToken string
	hmacSecret, hmacHeader, hmacTS    string
	hmacRequireTS                     bool
	hmacSkew                          time.Duration
	maxBody                           int64
	maxInFlight                       int
	dedupeWindow                      time.Duration
	workers                           int
	backoffBase, backoffMax           time.Duration
	maxAge, attemptTimeout            time.Duration
	ragURL, ragToken                  string
	ragTimeout                        time.Duration
	lakeTemplate, lakeTemplatesFile   string
	shutdownTimeout                   time.Duration
	gcPercent                         int
	onCommit                          func(batch int, took time.Duration) // load harness only
	noDeliver                         bool                                // load harness only
}

func serveCmd(stderr io.Writer) *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Receive webhooks on --addr and deliver them to --target-url",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := envDefaults(cmd.Flags()); err != nil {
				return err
			}
			log, err := newLogger(stderr, c.logLevel)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), c, log, nil)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9095", "listen address")
	fs.StringVar(&c.db, "db", "alert-bridge.db", "bbolt outbox file")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.targetURL, "target-url", "", "n8n webhook URL notifications are POSTed to (required)")
	fs.StringArrayVar(&c.targetHeaders, "target-header", nil, "extra header for the target, Name=value (repeatable)")
	fs.StringVar(&c.amToken, "alertmanager-token", "", "bearer token Alertmanager must send (empty: no auth)")
	fs.StringVar(&c.grafanaToken, "grafana-token", "", "bearer token Grafana must send in Authorization (optional)")
	fs.StringVar(&c.hmacSecret, "grafana-hmac-secret", "", "Grafana contact point hmacConfig.secret (empty: no signature check)")
	fs.StringVar(&c.hmacHeader, "grafana-signature-header", auth.DefaultSignatureHeader, "hmacConfig.header")
	fs.StringVar(&c.hmacTS, "grafana-timestamp-header", auth.DefaultTimestampHeader, "hmacConfig.timestampHeader")
	fs.BoolVar(&c.hmacRequireTS, "grafana-require-timestamp", false, "reject signatures without a timestamp (replay protection)")
	durationFlag(fs, &c.hmacSkew, "grafana-max-skew", 5*time.Minute, "reject signature timestamps further than this from now")
	fs.StringVar(&c.adminToken, "admin-token", "", "bearer token for /v1/admin/* (empty: admin routes off)")
	fs.Int64Var(&c.maxBody, "max-body", 1<<20, "max webhook body in bytes")
	fs.IntVar(&c.maxInFlight, "max-in-flight", 1024, "concurrent webhook requests; beyond: 503 + Retry-After")
	durationFlag(fs, &c.dedupeWindow, "dedupe-window", 5*time.Minute, "a group's repeated identical notification within this is a duplicate")
	fs.IntVar(&c.workers, "workers", 8, "concurrent deliveries")
	durationFlag(fs, &c.backoffBase, "backoff-base", 500*time.Millisecond, "first retry delay ceiling (full jitter)")
	durationFlag(fs, &c.backoffMax, "backoff-max", 5*time.Minute, "retry delay ceiling")
	durationFlag(fs, &c.maxAge, "max-age", 24*time.Hour, "park as dead letter after failing this long")
	durationFlag(fs, &c.attemptTimeout, "attempt-timeout", 10*time.Second, "one delivery attempt, enrichment included")
	fs.StringVar(&c.ragURL, "rag-url", "", "rag-api base URL for runbook passages (empty: off)")
	fs.StringVar(&c.ragToken, "rag-token", "", "bearer token for rag-api (optional)")
	durationFlag(fs, &c.ragTimeout, "rag-timeout", 500*time.Millisecond, "runbook lookup timeout")
	fs.StringVar(&c.lakeTemplate, "lake-url-template", "", "evidence link template, e.g. https://lake/q?alert={alertname}&from={startsAt}")
	fs.StringVar(&c.lakeTemplatesFile, "lake-url-templates", "", "JSON file {alertname: template, \"*\": default}")
	durationFlag(fs, &c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "grace period for in-flight requests")
	fs.IntVar(&c.gcPercent, "gc-percent", 400, "GC target percentage unless GOGC is set (the heap is small and bounded; fewer GCs leave CPU for requests)")
	return cmd
}

// validate rejects configurations that would only fail later.
func (c serveConfig) validate() error {
	if c.targetURL == "" {
		return errors.New("--target-url is required")
	}
	for name, raw := range map[string]string{"--target-url": c.targetURL, "--rag-url": c.ragURL} {
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s %q: want an http(s) URL", name, raw)
		}
	}
	switch {
	case c.workers < 1:
		return errors.New("--workers must be at least 1")
	case c.maxBody < 1024:
		return errors.New("--max-body must be at least 1024 bytes")
	case c.dedupeWindow <= 0 || c.maxAge <= 0 || c.backoffBase <= 0 || c.backoffMax < c.backoffBase:
		return errors.New("--dedupe-window, --max-age, --backoff-base must be positive and --backoff-max >= --backoff-base")
	}
	return nil
}

func parseHeaders(kvs []string) (map[string]string, error) {
	h := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("target header %q: want Name=value", kv)
		}
		h[k] = v
	}
	return h, nil
}

func lakeTemplates(c serveConfig) (map[string]string, error) {
	t := map[string]string{}
	if c.lakeTemplatesFile != "" {
		b, err := os.ReadFile(c.lakeTemplatesFile)
		if err != nil {
			return nil, fmt.Errorf("read lake templates: %w", err)
		}
		if err := json.Unmarshal(b, &t); err != nil {
			return nil, fmt.Errorf("parse lake templates %s: %w", c.lakeTemplatesFile, err)
		}
	}
	if c.lakeTemplate != "" {
		t["*"] = c.lakeTemplate
	}
	return t, nil
}

// serve runs until ctx is done. If ready is non-nil it receives the bound
// address once the listener is up (used by the load harness).
func serve(ctx context.Context, c serveConfig, log *slog.Logger, ready chan<- string) error {
	if err := c.validate(); err != nil {
		return err
	}
	headers, err := parseHeaders(c.targetHeaders)
	if err != nil {
		return err
	}
	lakes, err := lakeTemplates(c)
	if err != nil {
		return err
	}
	if _, set := os.LookupEnv("GOGC"); !set && c.gcPercent != 0 {
		debug.SetGCPercent(c.gcPercent)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var m *metrics.Metrics
	st, err := store.Open(c.db, store.Options{DedupeWindow: c.dedupeWindow, OnCommit: func(n int, d time.Duration) {
		if m != nil {
			m.CommitBatch.Observe(float64(n))
			m.CommitLatency.Observe(d.Seconds())
		}
		if c.onCommit != nil {
			c.onCommit(n, d)
		}
	}})
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	m = metrics.New(reg, metrics.Gauges{
		OutboxDepth: func() float64 { return float64(st.Depth()) },
		DeadLetters: func() float64 { return float64(st.DeadCount()) },
	})
	en := enrich.New(enrich.Config{RagURL: c.ragURL, RagToken: c.ragToken, Timeout: c.ragTimeout, LakeTemplates: lakes,
		OnSkip: func(reason string) { m.EnrichSkipped.WithLabelValues(reason).Inc() }})
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: max(c.workers, 2),
		IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second}}
	d := deliver.New(deliver.Config{Store: st, URL: c.targetURL, Headers: headers, Enricher: en, Workers: c.workers, Client: client,
		BaseBackoff: c.backoffBase, MaxBackoff: c.backoffMax, MaxAge: c.maxAge, AttemptTimeout: c.attemptTimeout,
		Log: log, Metrics: m})
	srv := server.New(server.Config{
		Store: st, AlertmanagerAuth: auth.Bearer{Token: c.amToken}, GrafanaBearer: auth.Bearer{Token: c.grafanaToken},
		GrafanaHMAC: auth.HMAC{Secret: c.hmacSecret, Header: c.hmacHeader, TimestampHeader: c.hmacTS, RequireTS: c.hmacRequireTS, MaxSkew: c.hmacSkew},
		AdminAuth:   auth.Bearer{Token: c.adminToken}, MaxBody: c.maxBody, MaxInFlight: c.maxInFlight, Metrics: m, Registry: reg, Log: log, OnStored: d.Wake,
	})
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", c.addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	if c.amToken == "" {
		log.Warn("POST /v1/alertmanager accepts unauthenticated requests: set --alertmanager-token")
	}
	if c.hmacSecret == "" && c.grafanaToken == "" {
		log.Warn("POST /v1/grafana accepts unauthenticated requests: set --grafana-hmac-secret")
	}
	log.Info("alert-bridge serving", "addr", ln.Addr().String(), "db", c.db, "pending", st.Depth(), "dead", st.DeadCount(), "instance", st.Instance())

	dctx, stopDeliver := context.WithCancel(context.WithoutCancel(ctx))
	g, gctx := errgroup.WithContext(ctx)
	if !c.noDeliver {
		g.Go(func() error { return d.Run(dctx) })
	}
	g.Go(func() error {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		t := time.NewTicker(max(c.dedupeWindow/4, time.Second))
		defer t.Stop()
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-t.C:
				if n, err := st.PruneDedupe(gctx); err != nil && gctx.Err() == nil {
					log.Error("prune dedupe log", "err", err)
				} else if n > 0 {
					log.Debug("pruned dedupe log", "entries", n)
				}
			}
		}
	})
	srv.SetReady(true)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	g.Go(func() error {
		<-gctx.Done()
		srv.SetReady(false)
		sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
		defer cancel()
		err := hs.Shutdown(sctx) // in-flight webhooks finish their commit
		stopDeliver()
		if err != nil {
			return fmt.Errorf("http shutdown: %w", err)
		}
		return nil
	})
	err = g.Wait()
	log.Info("alert-bridge stopped", "pending", st.Depth())
	return err
}
