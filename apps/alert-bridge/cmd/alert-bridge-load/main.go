// Command alert-bridge-load measures a running alert-bridge binary the way
// a user would see it: it starts the binary (--bin) on a fresh outbox with
// fsync on, plays Alertmanager and Grafana (real HTTP, bearer and HMAC
// auth) and n8n (a local receiver), and reports one of:
//
//	throughput  sustained webhooks/s and ack latency, delivery running
//	drain       time for a backlog to drain once a down receiver recovers
//	memory      peak RSS of the bridge under concurrent large bodies
//
// It is a separate command so the harness is not in the production binary.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

type config struct {
	bin, mode, dir   string
	duration, warmup time.Duration
	concurrency      int
	alerts, backlog  int
	workers          int
	extra            string
	jsonOut          bool
}

func main() {
	c := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	res, err := run(ctx, c)
	stop()
	if err == nil {
		err = report(os.Stdout, res, c.jsonOut)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "alert-bridge-load:", err)
		os.Exit(1)
	}
}

func parseFlags() config {
	var c config
	flag.StringVar(&c.bin, "bin", "bin/alert-bridge", "alert-bridge binary to measure")
	flag.StringVar(&c.mode, "mode", "throughput", "throughput, drain or memory")
	flag.StringVar(&c.dir, "dir", "", "directory for the outbox (default: a temp dir on the same disk as TMPDIR)")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "measured period (throughput, memory)")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured period first (throughput)")
	flag.IntVar(&c.concurrency, "concurrency", 64, "concurrent senders")
	flag.IntVar(&c.alerts, "alerts", 1, "alerts per webhook (memory: 900 gives ~1 MiB bodies)")
	flag.IntVar(&c.backlog, "backlog", 2000, "pending notifications (drain)")
	flag.IntVar(&c.workers, "workers", 8, "the bridge's --workers")
	flag.StringVar(&c.extra, "bridge-args", "", "extra flags for alert-bridge serve, space separated")
	flag.BoolVar(&c.jsonOut, "json", false, "print the result as JSON")
	flag.Parse()
	return c
}

// report prints the result as sorted "key value" lines, or as JSON.
func report(w io.Writer, res result, jsonOut bool) error {
	if jsonOut {
		if err := json.NewEncoder(w).Encode(res); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
		return nil
	}
	keys := make([]string, 0, len(res))
	for k := range res {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, err := fmt.Fprintf(w, "%-28s %v\n", k, res[k]); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
	}
	return nil
}

type result map[string]any

// run measures one mode. A bridge that does not shut down cleanly at the
// end fails the run: a figure from a bridge that was crashing is not one.
func run(ctx context.Context, c config) (_ result, err error) {
	dir := c.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "alert-bridge-load-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	rcv := &receiver{}
	target := httptest.NewServer(rcv)
	defer target.Close()
	b, err := startBridge(ctx, c, dir, target.URL)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, b.stop()) }()
	var res result
	switch c.mode {
	case "throughput":
		res, err = throughput(ctx, c, b, rcv)
	case "drain":
		res, err = drain(ctx, c, b, rcv)
	case "memory":
		res, err = memory(ctx, c, b, rcv)
	default:
		err = fmt.Errorf("--mode %q: want throughput, drain or memory", c.mode)
	}
	if err != nil {
		return nil, err
	}
	res["loadavg"] = loadavg()
	res["mode"] = c.mode
	return res, nil
}

// receiver stands in for n8n: 200 {"ok":true}, or 503 while down.
type receiver struct {
	down      atomic.Bool
	delivered atomic.Int64
	refused   atomic.Int64
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if _, err := io.Copy(io.Discard, req.Body); err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if r.down.Load() {
		r.refused.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	r.delivered.Add(1)
	w.Write([]byte(`{"ok":true}`))
}

const (
	amToken    = "load-token"
	hmacSecret = "load-secret"
)

type bridge struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{} // closed once the process has exited; waitErr is then set
	// waitErr is how the process exited (nil: status 0).
	waitErr error
}

func startBridge(ctx context.Context, c config, dir, targetURL string) (*bridge, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	args := []string{"serve", "--addr", addr, "--db", filepath.Join(dir, "outbox.db"), "--target-url", targetURL,
		"--alertmanager-token", amToken, "--grafana-hmac-secret", hmacSecret, "--workers", strconv.Itoa(c.workers), "--log-level", "warn"}
	if c.extra != "" {
		args = append(args, strings.Fields(c.extra)...)
	}
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.bin, err)
	}
	b := &bridge{cmd: cmd, addr: addr, done: make(chan struct{})}
	go func() { b.waitErr = cmd.Wait(); close(b.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return b, nil
			}
		}
		select {
		case <-b.done:
			return nil, fmt.Errorf("alert-bridge exited before serving: %v", b.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return nil, errors.Join(errors.New("alert-bridge not ready within 30s"), b.stop())
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

// stop interrupts the bridge as a user would and waits for it: an error
// says it was gone already, exited non-zero or had to be killed.
func (b *bridge) stop() error {
	if err := b.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("interrupt alert-bridge: %w", err)
	}
	select {
	case <-b.done:
	case <-time.After(15 * time.Second):
		killErr := b.cmd.Process.Kill()
		<-b.done
		return errors.Join(errors.New("alert-bridge did not stop within 15s of an interrupt; killed"), killErr)
	}
	if b.waitErr != nil {
		return fmt.Errorf("alert-bridge exited: %w", b.waitErr)
	}
	return nil
}

// depth reads outboxDepth from /readyz.
func (b *bridge) depth() (int64, error) {
	resp, err := http.Get("http://" + b.addr + "/readyz")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		OutboxDepth int64 `json:"outboxDepth"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, fmt.Errorf("decode /readyz: %w", err)
	}
	return r.OutboxDepth, nil
}

// commits reads the store's commit count, batched requests and commit
// seconds from the bridge's /metrics: the single writer is the serial
// part of every acknowledgement, so its busy share says how close the
// bridge is to its limit.
func (b *bridge) commits() (n, ops, secs float64, err error) {
	resp, err := http.Get("http://" + b.addr + "/metrics")
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("parse /metrics: %w", err)
	}
	hist := func(name string) (*dto.Histogram, error) {
		f := fams[name]
		if f == nil || len(f.GetMetric()) != 1 || f.GetMetric()[0].GetHistogram() == nil {
			return nil, fmt.Errorf("/metrics has no histogram %s", name)
		}
		return f.GetMetric()[0].GetHistogram(), nil
	}
	took, err := hist("alert_bridge_store_commit_seconds")
	if err != nil {
		return 0, 0, 0, err
	}
	batch, err := hist("alert_bridge_store_commit_batch_size")
	if err != nil {
		return 0, 0, 0, err
	}
	return float64(took.GetSampleCount()), batch.GetSampleSum(), took.GetSampleSum(), nil
}

// rss reads the bridge's current and peak resident set from /proc; anon
// is the part not backed by a file (the Go heap, stacks), the rest is the
// outbox file mapped by bbolt (page cache the kernel can reclaim).
func (b *bridge) rss() (cur, peak int64) {
	cur, peak, _ = b.rssParts()
	return cur, peak
}

func (b *bridge) rssParts() (cur, peak, anon int64) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", b.cmd.Process.Pid))
	if err != nil {
		return 0, 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			cur = kb << 10
		case "VmHWM:":
			peak = kb << 10
		case "RssAnon:":
			anon = kb << 10
		}
	}
	return cur, peak, anon
}

// cpu is the bridge's CPU time so far (user + system, from
// /proc/<pid>/stat): CPU per webhook is a figure a busy machine does not
// distort the way it distorts wall-clock throughput.
func (b *bridge) cpu() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", b.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks
}

// selfCPU is the harness's own CPU time (senders and receiver): on shared
// cores, what it takes the bridge does not get.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadavg() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(raw))
	return strings.Join(f[:min(3, len(f))], " ")
}

func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[min(len(sorted)-1, int(p*float64(len(sorted))))].Microseconds()) / 1000
}
