package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
)

// childLimits applies ALERT_BRIDGE_FSIZE (bytes) as the child's file size
// limit: writes past it fail with EFBIG, as they fail with ENOSPC on a
// full disk, on the same write path. SIGXFSZ is ignored so the write
// returns the error instead of killing the process.
func childLimits() {
	v := os.Getenv("ALERT_BRIDGE_FSIZE")
	if v == "" {
		return
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		panic(err)
	}
	signal.Ignore(syscall.SIGXFSZ)
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: n, Max: unix.RLIM_INFINITY}); err != nil {
		panic(err)
	}
}

// keyCounter is n8n's stand-in: it counts the POSTs it accepted per
// Idempotency-Key (503 while down).
type keyCounter struct {
	mu    sync.Mutex
	keys  map[string]int
	down  bool
	posts int
}

func (k *keyCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.posts++
	if k.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	k.keys[r.Header.Get("Idempotency-Key")]++
	io.WriteString(w, `{"ok":true}`)
}

func (k *keyCounter) setDown(v bool) { k.mu.Lock(); k.down = v; k.mu.Unlock() }
func (k *keyCounter) total() int     { k.mu.Lock(); defer k.mu.Unlock(); return k.posts }

func (k *keyCounter) snapshot() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]int, len(k.keys))
	for key, n := range k.keys {
		out[key] = n
	}
	return out
}

// A store that cannot write is loud and safe: acknowledged alerts are
// kept, nothing is POSTed in a loop, readiness fails and the metrics say
// why, a bounded number of error lines is logged, and once the disk has
// room again everything is delivered, each message once.
func TestDiskFullIsLoudAndSafe(t *testing.T) {
	rec := &keyCounter{keys: map[string]int{}, down: true} // n8n down: the outbox fills
	target := httptest.NewServer(rec)
	defer target.Close()
	db := filepath.Join(t.TempDir(), "outbox.db")
	const limit = 20 << 20 // bbolt grows its file 16 MiB at a time: the second step fails
	c := startChildEnv(t, []string{fmt.Sprintf("ALERT_BRIDGE_FSIZE=%d", limit)}, "serve", "--addr", "127.0.0.1:0", "--db", db,
		"--target-url", target.URL, "--backoff-base", "10ms", "--backoff-max", "100ms", "--workers", "4")
	defer c.kill(t)
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + c.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	acked := map[string]bool{}
	rejected := 0
	sawNotReady, sawUnhealthyMetric := false, false
	for i := 0; rejected < 5 && i < 200; i++ {
		body := loadgen.Body(loadgen.Spec{Group: fmt.Sprint("full-", i), Alerts: 600}) // ~0.5 MB
		resp, err := http.Post("http://"+c.addr+"/v1/alertmanager", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var ack struct{ ID string }
		json.NewDecoder(resp.Body).Decode(&ack)
		resp.Body.Close()
		switch resp.StatusCode {
		case 200:
			acked[ack.ID] = true
		case 503:
			rejected++
			if code, _ := get("/readyz"); code == 503 {
				sawNotReady = true
			}
			if _, m := get("/metrics"); strings.Contains(m, "alert_bridge_store_healthy 0") {
				sawUnhealthyMetric = true
			}
		default:
			t.Fatalf("webhook %d: HTTP %d", i, resp.StatusCode)
		}
	}
	if rejected == 0 {
		t.Fatal("the file size limit never made a commit fail")
	}
	if !sawNotReady || !sawUnhealthyMetric {
		t.Errorf("while the store could not commit: /readyz 503 seen %v, alert_bridge_store_healthy 0 seen %v", sawNotReady, sawUnhealthyMetric)
	}
	// n8n comes back while the disk is still full: deliveries succeed but
	// cannot be recorded. Each message must be POSTed once, not in a loop.
	rec.setDown(false)
	before, logsBefore := rec.total(), c.errorLogs.Load()
	time.Sleep(4 * time.Second) // a window in which a hot loop would show
	_, metrics := get("/metrics")
	for _, want := range []string{`alert_bridge_rejected_total{reason="store",source="alertmanager"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for key, n := range rec.snapshot() {
		if n > 1 {
			t.Errorf("%s accepted %d times while the disk was full", key, n)
		}
	}
	posts, logs := rec.total()-before, c.errorLogs.Load()-logsBefore
	if posts > 4*len(acked) || logs > 100 {
		t.Errorf("%d POSTs and %d error lines in 4 s for %d messages: a hot loop", posts, logs, len(acked))
	}
	t.Logf("%d acknowledged, %d refused with 503; with n8n back and the disk full: %d POSTs, %d error lines in 4 s", len(acked), rejected, posts, logs)

	// Room again: the store's probe write succeeds, readiness returns and
	// every acknowledged alert is delivered exactly once.
	if err := unix.Prlimit(c.cmd.Process.Pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}, nil); err != nil {
		t.Fatal(err)
	}
	poll(t, "readiness back", 30*time.Second, func() bool { code, _ := get("/readyz"); return code == 200 })
	poll(t, "every acknowledged alert delivered", 30*time.Second, func() bool {
		got := rec.snapshot()
		for id := range acked {
			if got[id] == 0 {
				return false
			}
		}
		return true
	})
	for key, n := range rec.snapshot() {
		if n != 1 {
			t.Errorf("%s POSTed %d times", key, n)
		}
	}
}
