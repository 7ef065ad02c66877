package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/alert-bridge/auth"
)

type loadConfig struct {
	duration, warmup time.Duration
	concurrency      int
	alertsPerHook    int
	source           string // alertmanager, grafana or mixed
	dir              string
	workers          int
	jsonOut          bool
	cpuProfile       string
	noDeliver        bool
}

type loadResult struct {
	Webhooks      int64   `json:"webhooks"`
	Alerts        int64   `json:"alerts"`
	Errors        int64   `json:"errors"`
	Seconds       float64 `json:"seconds"`
	WebhooksPerS  float64 `json:"webhooksPerSecond"`
	AlertsPerS    float64 `json:"alertsPerSecond"`
	P50ms         float64 `json:"ackP50ms"`
	P90ms         float64 `json:"ackP90ms"`
	P99ms         float64 `json:"ackP99ms"`
	MaxMs         float64 `json:"ackMaxMs"`
	Delivered     int64   `json:"deliveredDuringRun"`
	Commits       int64   `json:"commits"`
	AvgBatch      float64 `json:"avgCommitBatch"`
	AvgCommitMs   float64 `json:"avgCommitMs"`
	FsyncP50ms    float64 `json:"fdatasyncP50ms"`
	FsyncP99ms    float64 `json:"fdatasyncP99ms"`
	Load1         string  `json:"loadavg"`
	Concurrency   int     `json:"concurrency"`
	AlertsPerHook int     `json:"alertsPerWebhook"`
	Source        string  `json:"source"`
}

func loadCmd(stdout, stderr io.Writer) *cobra.Command {
	var c loadConfig
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Measure sustained webhooks/s and ack latency against an in-process bridge with the durable store",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c.cpuProfile != "" {
				f, err := os.Create(c.cpuProfile)
				if err != nil {
					return fmt.Errorf("cpu profile: %w", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("cpu profile: %w", err)
				}
				defer pprof.StopCPUProfile()
			}
			res, err := runLoad(cmd.Context(), c)
			if err != nil {
				return err
			}
			if c.jsonOut {
				return json.NewEncoder(stdout).Encode(res)
			}
			fmt.Fprintf(stdout, "source=%s concurrency=%d alerts/webhook=%d duration=%.1fs\n", res.Source, res.Concurrency, res.AlertsPerHook, res.Seconds)
			fmt.Fprintf(stdout, "webhooks: %d (%.0f/s)  alerts: %d (%.0f/s)  errors: %d  delivered meanwhile: %d\n",
				res.Webhooks, res.WebhooksPerS, res.Alerts, res.AlertsPerS, res.Errors, res.Delivered)
			fmt.Fprintf(stdout, "disk before the run: fdatasync of a 4 KiB overwrite p50 %.2f ms p99 %.2f ms; loadavg at end %s\n", res.FsyncP50ms, res.FsyncP99ms, res.Load1)
			fmt.Fprintf(stdout, "group commits: %d, avg batch %.1f, avg commit %.2f ms\n", res.Commits, res.AvgBatch, res.AvgCommitMs)
			fmt.Fprintf(stdout, "ack latency: p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", res.P50ms, res.P90ms, res.P99ms, res.MaxMs)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured period")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured period first")
	fs.IntVar(&c.concurrency, "concurrency", 64, "concurrent senders")
	fs.IntVar(&c.alertsPerHook, "alerts-per-webhook", 1, "alerts in each webhook body")
	fs.StringVar(&c.source, "source", "mixed", "alertmanager, grafana or mixed")
	fs.StringVar(&c.dir, "dir", "", "directory for the outbox file (default: a temp dir, removed after)")
	fs.IntVar(&c.workers, "workers", 8, "delivery workers")
	fs.BoolVar(&c.jsonOut, "json", false, "print the result as JSON")
	fs.BoolVar(&c.noDeliver, "no-deliver", false, "do not run the deliverer (ingest only; the outbox grows)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the run (generator included) here")
	return cmd
}

func loadBody(source string, n int64, alerts int, ts string) ([]byte, string) {
	var b bytes.Buffer
	group := "load-" + strconv.FormatInt(n, 10)
	version, path := "4", "/v1/alertmanager"
	if source == "grafana" {
		version, path = "1", "/v1/grafana"
	}
	fmt.Fprintf(&b, `{"version":%q,"groupKey":%q,"status":"firing","receiver":"load","orgId":1,"groupLabels":{"alertname":"LoadTest"},`+
		`"commonLabels":{"alertname":"LoadTest","severity":"warning","team":"sre"},"commonAnnotations":{"summary":"synthetic load"},`+
		`"externalURL":"http://am:9093","truncatedAlerts":0,"alerts":[`, version, group)
	for i := range alerts {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"status":"firing","labels":{"alertname":"LoadTest","instance":"host-%d-%d","severity":"warning"},`+
			`"annotations":{"summary":"synthetic load"},"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z",`+
			`"generatorURL":"http://prom:9090/graph","fingerprint":"%016x"}`, n, i, ts, n*1000+int64(i))
	}
	b.WriteString("]}")
	return b.Bytes(), path
}

func runLoad(ctx context.Context, c loadConfig) (loadResult, error) {
	if c.concurrency <= 0 || c.alertsPerHook <= 0 {
		return loadResult{}, fmt.Errorf("concurrency and alerts-per-webhook must be positive")
	}
	dir := c.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "alert-bridge-load-")
		if err != nil {
			return loadResult{}, fmt.Errorf("temp dir: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	fsync, err := probeFsync(dir, 100)
	if err != nil {
		return loadResult{}, err
	}
	var delivered, commits, committed, commitNs atomic.Int64
	var measuring atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		delivered.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer target.Close()
	const secret, token = "load-secret", "load-token"
	sctx, stop := context.WithCancel(ctx)
	ready := make(chan string, 1)
	served := make(chan error, 1)
	cfg := serveConfig{addr: "127.0.0.1:0", db: filepath.Join(dir, "load.db"), targetURL: target.URL, amToken: token,
		hmacSecret: secret, hmacHeader: auth.DefaultSignatureHeader, hmacTS: auth.DefaultTimestampHeader, hmacSkew: time.Minute,
		noDeliver: c.noDeliver, gcPercent: 400, maxBody: 1 << 20, dedupeWindow: 5 * time.Minute, workers: c.workers, backoffBase: 100 * time.Millisecond,
		backoffMax: time.Second, maxAge: time.Hour, attemptTimeout: 5 * time.Second, shutdownTimeout: 10 * time.Second,
		onCommit: func(n int, d time.Duration) {
			if measuring.Load() {
				commits.Add(1)
				committed.Add(int64(n))
				commitNs.Add(int64(d))
			}
		}}
	go func() { served <- serve(sctx, cfg, slog.New(slog.DiscardHandler), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-served:
		stop()
		return loadResult{}, fmt.Errorf("start bridge: %w", err)
	}
	defer func() { stop(); <-served }()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.concurrency, MaxConnsPerHost: c.concurrency}}
	var seq, errs atomic.Int64
	lat := make([][]time.Duration, c.concurrency)
	startsAt := time.Now().UTC().Format(time.RFC3339)
	deadline := time.Now().Add(c.warmup + c.duration)
	var wg sync.WaitGroup
	for w := range c.concurrency {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				n := seq.Add(1)
				src := c.source
				if src == "mixed" {
					src = []string{"alertmanager", "grafana"}[n%2]
				}
				body, path := loadBody(src, n, c.alertsPerHook, startsAt)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if src == "grafana" {
					ts := strconv.FormatInt(time.Now().Unix(), 10)
					req.Header.Set(auth.DefaultTimestampHeader, ts)
					req.Header.Set(auth.DefaultSignatureHeader, auth.Sign(secret, ts, body))
				} else {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				if !measuring.Load() {
					continue
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				lat[w] = append(lat[w], d)
			}
		})
	}
	select {
	case <-time.After(c.warmup):
	case <-ctx.Done():
	}
	deliveredBefore := delivered.Load()
	measuring.Store(true)
	t0 := time.Now()
	wg.Wait()
	el := time.Since(t0).Seconds()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	n := int64(len(all))
	measuring.Store(false)
	nc := max(commits.Load(), 1)
	loadavg, _ := os.ReadFile("/proc/loadavg")
	return loadResult{
		FsyncP50ms: fsync[len(fsync)/2], FsyncP99ms: fsync[len(fsync)*99/100], Load1: strings.Join(strings.Fields(string(loadavg))[:min(3, len(strings.Fields(string(loadavg))))], " "),
		Commits: commits.Load(), AvgBatch: float64(committed.Load()) / float64(nc), AvgCommitMs: float64(commitNs.Load()) / float64(nc) / 1e6,
		Webhooks: n, Alerts: n * int64(c.alertsPerHook), Errors: errs.Load(), Seconds: el,
		WebhooksPerS: float64(n) / el, AlertsPerS: float64(n*int64(c.alertsPerHook)) / el,
		P50ms: pct(0.50), P90ms: pct(0.90), P99ms: pct(0.99), MaxMs: pct(1),
		Delivered: delivered.Load() - deliveredBefore, Concurrency: c.concurrency, AlertsPerHook: c.alertsPerHook, Source: c.source,
	}, nil
}

// probeFsync times n fdatasyncs of a 4 KiB in-place overwrite in dir: the
// floor of one group commit (bbolt syncs twice per commit).
func probeFsync(dir string, n int) ([]float64, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return nil, fmt.Errorf("fsync probe: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	if _, err := f.Write(buf); err != nil {
		return nil, fmt.Errorf("fsync probe: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("fsync probe: %w", err)
	}
	out := make([]float64, 0, n)
	for i := range n {
		buf[0] = byte(i)
		if _, err := f.WriteAt(buf, 0); err != nil {
			return nil, fmt.Errorf("fsync probe: %w", err)
		}
		t0 := time.Now()
		if err := fdatasync(f); err != nil {
			return nil, fmt.Errorf("fsync probe: %w", err)
		}
		out = append(out, float64(time.Since(t0).Microseconds())/1000)
	}
	slices.Sort(out)
	return out, nil
}
