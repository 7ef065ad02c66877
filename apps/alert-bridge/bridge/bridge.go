// Package bridge assembles alert-bridge: the outbox (embedded bbolt file
// or SQS FIFO), the HTTP receivers, the deliverer, the dead-man's switch
// and the housekeeping loops, from one Config. The CLI's serve command
// and the load harness both run it.
package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	"golang.org/x/sync/errgroup"

	"github.com/unsilo/unsilo/apps/alert-bridge/auth"
	"github.com/unsilo/unsilo/apps/alert-bridge/deadman"
	"github.com/unsilo/unsilo/apps/alert-bridge/deliver"
	"github.com/unsilo/unsilo/apps/alert-bridge/enrich"
	"github.com/unsilo/unsilo/apps/alert-bridge/membudget"
	"github.com/unsilo/unsilo/apps/alert-bridge/metrics"
	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
	"github.com/unsilo/unsilo/apps/alert-bridge/server"
	"github.com/unsilo/unsilo/apps/alert-bridge/store"
)

// Config is everything `alert-bridge serve` takes.
type Config struct {
	Addr, DB                          string
	TargetURL                         string
	TargetHeaders                     []string
	AMToken, GrafanaToken, AdminToken string
	HMACSecret, HMACHeader, HMACTS    string
	HMACRequireTS                     bool
	HMACSkew                          time.Duration
	MaxBody                           int64
	MemoryBudget                      int64 // bytes for bodies in requests and deliveries
	MemoryLimit                       int64 // Go soft memory limit (GOMEMLIMIT) unless set in the environment
	MaxInFlight                       int
	DedupeWindow                      time.Duration
	DedupeMaxGroups                   int
	Workers                           int
	BackoffBase, BackoffMax           time.Duration
	MaxAge, AttemptTimeout            time.Duration
	ProbeMax                          time.Duration
	DeadRetention                     time.Duration
	RequireOK                         bool
	RagURL, RagToken                  string
	RagTimeout                        time.Duration
	LakeTemplate, LakeTemplatesFile   string
	DeadmanAfter                      time.Duration
	ShutdownTimeout                   time.Duration
	GCPercent                         int
	SQS                               *SQSConfig // nil: the embedded bbolt outbox

	OnCommit  func(batch int, took time.Duration) // load harness only
	NoDeliver bool                                // load harness only
	// Client, if set, delivers to the target (tests inject transports).
	Client *http.Client
}

// Defaults are the serve command's defaults.
func Defaults() Config {
	return Config{Addr: "127.0.0.1:9095", DB: "alert-bridge.db", HMACHeader: auth.DefaultSignatureHeader,
		HMACTS: auth.DefaultTimestampHeader, HMACSkew: 5 * time.Minute, MaxBody: 32 << 20, MemoryBudget: 128 << 20,
		MaxInFlight: 1024, DedupeWindow: 5 * time.Minute, DedupeMaxGroups: 200_000, Workers: 8,
		BackoffBase: 500 * time.Millisecond, BackoffMax: 5 * time.Minute, MaxAge: 24 * time.Hour,
		AttemptTimeout: 30 * time.Second, ProbeMax: 5 * time.Second, DeadRetention: 14 * 24 * time.Hour,
		RagTimeout: 500 * time.Millisecond, ShutdownTimeout: 10 * time.Second, GCPercent: 400}
}

// Validate rejects configurations that would only fail later.
func (c Config) Validate() error {
	if c.TargetURL == "" {
		return errors.New("--target-url is required")
	}
	for name, raw := range map[string]string{"--target-url": c.TargetURL, "--rag-url": c.RagURL} {
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s %q: want an http(s) URL", name, raw)
		}
	}
	switch {
	case c.Workers < 1:
		return errors.New("--workers must be at least 1")
	case c.MaxBody < 1024:
		return errors.New("--max-body must be at least 1024 bytes")
	case c.MemoryBudget < 2*(c.MaxBody+4096)+c.MaxBody:
		// One request of the largest size (2x) and its delivery (1x) must
		// fit, or that notification could never be accepted and sent.
		return fmt.Errorf("--memory-budget %d must be at least 3x --max-body (%d): a largest body needs 2x while received and 1x while delivered",
			c.MemoryBudget, 3*c.MaxBody+8192)
	case c.DedupeWindow <= 0 || c.MaxAge <= 0 || c.BackoffBase <= 0 || c.BackoffMax < c.BackoffBase:
		return errors.New("--dedupe-window, --max-age, --backoff-base must be positive and --backoff-max >= --backoff-base")
	case c.SQS != nil && (c.SQS.QueueURL == "" || c.SQS.DeadQueueURL == ""):
		return errors.New("--sqs-queue-url and --sqs-dead-queue-url are required with --outbox sqs")
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

func lakeTemplates(c Config) (map[string]string, error) {
	t := map[string]string{}
	if c.LakeTemplatesFile != "" {
		b, err := os.ReadFile(c.LakeTemplatesFile)
		if err != nil {
			return nil, fmt.Errorf("read lake templates: %w", err)
		}
		if err := json.Unmarshal(b, &t); err != nil {
			return nil, fmt.Errorf("parse lake templates %s: %w", c.LakeTemplatesFile, err)
		}
	}
	if c.LakeTemplate != "" {
		t["*"] = c.LakeTemplate
	}
	return t, nil
}

// queue is the outbox plus what the housekeeping and admin need.
type queue interface {
	outbox.Queue
	Close() error
}

// Run serves until ctx is done. If ready is non-nil it receives the bound
// address once the listener is up.
func Run(ctx context.Context, c Config, log *slog.Logger, ready chan<- string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	headers, err := parseHeaders(c.TargetHeaders)
	if err != nil {
		return err
	}
	lakes, err := lakeTemplates(c)
	if err != nil {
		return err
	}
	if _, set := os.LookupEnv("GOGC"); !set && c.GCPercent != 0 {
		debug.SetGCPercent(c.GCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && c.MemoryLimit > 0 {
		// GOGC=400 trades memory for CPU; the limit makes the GC work
		// harder instead of growing past the container's limit.
		debug.SetMemoryLimit(c.MemoryLimit)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	budget := membudget.New(c.MemoryBudget)
	var m *metrics.Metrics
	q, st, err := openQueue(ctx, c, budget, func() *metrics.Metrics { return m })
	if err != nil {
		return err
	}
	defer func() {
		if err := q.Close(); err != nil {
			log.Error("close outbox", "err", err)
		}
	}()
	var d *deliver.Deliverer
	var sw *deadman.Switch
	m = metrics.New(reg, metrics.Gauges{
		OutboxDepth: func() float64 { return float64(q.Depth()) },
		DeadLetters: func() float64 { return float64(q.DeadCount()) },
		StoreHealthy: func() float64 {
			if q.Healthy() != nil {
				return 0
			}
			return 1
		},
		BreakerOpen: func() float64 {
			if d != nil && d.BreakerOpen() {
				return 1
			}
			return 0
		},
		BudgetInUse: func() float64 { return float64(budget.InUse()) },
		LastHeartbeat: func() float64 {
			if sw == nil {
				return 0
			}
			return float64(sw.Last().Unix())
		},
	})
	en := enrich.New(enrich.Config{RagURL: c.RagURL, RagToken: c.RagToken, Timeout: c.RagTimeout, LakeTemplates: lakes,
		OnSkip: func(reason string) { m.EnrichSkipped.WithLabelValues(reason).Inc() }})
	client := c.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: max(c.Workers, 2),
			IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: c.AttemptTimeout}}
	}
	d = deliver.New(deliver.Config{Queue: q, URL: c.TargetURL, Headers: headers, Enricher: en, Workers: c.Workers, Client: client,
		BaseBackoff: c.BackoffBase, MaxBackoff: c.BackoffMax, MaxAge: c.MaxAge, AttemptTimeout: c.AttemptTimeout,
		ProbeMax: c.ProbeMax, RequireOK: c.RequireOK, Log: log, Metrics: m})
	scfg := server.Config{
		Queue: q, AlertmanagerAuth: auth.Bearer{Token: c.AMToken}, GrafanaBearer: auth.Bearer{Token: c.GrafanaToken},
		GrafanaHMAC: auth.HMAC{Secret: c.HMACSecret, Header: c.HMACHeader, TimestampHeader: c.HMACTS, RequireTS: c.HMACRequireTS, MaxSkew: c.HMACSkew},
		AdminAuth:   auth.Bearer{Token: c.AdminToken}, MaxBody: c.MaxBody, Budget: budget, MaxInFlight: c.MaxInFlight,
		Metrics: m, Registry: reg, Log: log, OnStored: d.Wake,
	}
	if st != nil {
		scfg.Admin = st
	}
	if c.DeadmanAfter > 0 {
		sw = deadman.New(deadman.Config{After: c.DeadmanAfter, Log: log, Raise: func(ctx context.Context, n *payload.Notification) error {
			_, err := q.Enqueue(ctx, n)
			d.Wake()
			return err
		}})
		scfg.Heartbeat, scfg.IsHeartbeat = sw.Heartbeat, sw.IsHeartbeat
	}
	srv := server.New(scfg)
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", c.Addr, err)
	}
	// ReadHeaderTimeout bounds a client that never finishes its headers;
	// the body's deadline is set per request from its size (server.Config.MinBodyRate).
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	if c.AMToken == "" {
		log.Warn("POST /v1/alertmanager accepts unauthenticated requests: set --alertmanager-token")
	}
	if c.HMACSecret == "" && c.GrafanaToken == "" {
		log.Warn("POST /v1/grafana accepts unauthenticated requests: set --grafana-hmac-secret")
	}
	log.Info("alert-bridge serving", "addr", ln.Addr().String(), "outbox", outboxName(c), "pending", q.Depth(), "dead", q.DeadCount())

	dctx, stopDeliver := context.WithCancel(context.WithoutCancel(ctx))
	g, gctx := errgroup.WithContext(ctx)
	if !c.NoDeliver {
		g.Go(func() error { return d.Run(dctx) })
	}
	g.Go(func() error {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	if st != nil {
		g.Go(func() error { housekeeping(gctx, c, st, log); return nil })
	}
	if sw != nil {
		g.Go(func() error { return sw.Run(gctx) })
	}
	srv.SetReady(true)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	g.Go(func() error {
		<-gctx.Done()
		srv.SetReady(false)
		sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
		defer cancel()
		err := hs.Shutdown(sctx) // in-flight webhooks finish their commit
		stopDeliver()
		if err != nil {
			return fmt.Errorf("http shutdown: %w", err)
		}
		return nil
	})
	err = g.Wait()
	log.Info("alert-bridge stopped", "pending", q.Depth())
	return err
}

func outboxName(c Config) string {
	if c.SQS != nil {
		return "sqs:" + c.SQS.QueueURL
	}
	return "bbolt:" + c.DB
}

// housekeeping prunes the dedupe log every window/4 and the dead letters
// past their retention every hour.
func housekeeping(ctx context.Context, c Config, st *store.Store, log *slog.Logger) {
	dd := time.NewTicker(max(c.DedupeWindow/4, time.Second))
	defer dd.Stop()
	dead := time.NewTicker(time.Hour)
	defer dead.Stop()
	prune := func() {
		if n, err := st.PruneDead(ctx, c.DeadRetention); err != nil && ctx.Err() == nil {
			log.Error("prune dead letters", "err", err)
		} else if n > 0 {
			log.Info("dead letters past their retention deleted", "count", n, "retention", c.DeadRetention.String())
		}
	}
	if c.DeadRetention > 0 {
		prune()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-dd.C:
			if n, err := st.PruneDedupe(ctx); err != nil && ctx.Err() == nil {
				log.Error("prune dedupe log", "err", err)
			} else if n > 0 {
				log.Debug("pruned dedupe log", "entries", n)
			}
		case <-dead.C:
			if c.DeadRetention > 0 {
				prune()
			}
		}
	}
}
