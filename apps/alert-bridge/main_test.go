package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/bridge"
	"github.com/unsilo/unsilo/apps/alert-bridge/deliver"
)

// TestMain lets the test binary act as the alert-bridge binary: with
// ALERT_BRIDGE_CHILD=1 it runs main's code path with the arguments in
// ALERT_BRIDGE_ARGS (unit-separator delimited). The crash test starts it
// as a subprocess and kills it with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("ALERT_BRIDGE_CHILD") == "1" {
		childLimits() // disk_linux_test.go: a file size limit standing in for a full disk
		main2(strings.Split(os.Getenv("ALERT_BRIDGE_ARGS"), "\x1f"))
		return
	}
	os.Exit(m.Run())
}

func main2(args []string) {
	os.Args = append([]string{"alert-bridge"}, args...)
	main()
	os.Exit(0)
}

// recorder is the delivery target: it records the Idempotency-Key of every
// delivery per alert group and fails a fraction of requests.
type recorder struct {
	mu       sync.Mutex
	keys     map[string]map[string]int // groupKey -> Idempotency-Key -> deliveries
	requests int
	failEach int // every failEach-th request gets a 500 (0: never)
	down     atomic.Bool
}

func newRecorder(failEach int) *recorder {
	return &recorder{keys: map[string]map[string]int{}, failEach: failEach}
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	raw, _ := io.ReadAll(req.Body)
	if r.down.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var o deliver.Outbound
	if err := json.Unmarshal(raw, &o); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.requests++
	if r.failEach > 0 && r.requests%r.failEach == 0 {
		r.mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if r.keys[o.GroupKey] == nil {
		r.keys[o.GroupKey] = map[string]int{}
	}
	r.keys[o.GroupKey][req.Header.Get("Idempotency-Key")]++
	r.mu.Unlock()
	io.WriteString(w, `{"ok":true}`)
}

func (r *recorder) delivered() map[string]map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]map[string]int, len(r.keys))
	for g, ks := range r.keys {
		out[g] = map[string]int{}
		for k, n := range ks {
			out[g][k] = n
		}
	}
	return out
}

func amBody(group string) []byte {
	return fmt.Appendf(nil, `{"version":"4","groupKey":%q,"status":"firing","receiver":"crash","groupLabels":{"alertname":"Crash"},`+
		`"commonLabels":{"alertname":"Crash","severity":"critical","team":"sre"},"commonAnnotations":{"summary":"crash test"},`+
		`"externalURL":"http://am","alerts":[{"status":"firing","labels":{"alertname":"Crash","g":%q},"annotations":{},`+
		`"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"%x"}]}`, group, group, group)
}

func poll(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronization
	}
}

// child is one alert-bridge subprocess.
type child struct {
	cmd       *exec.Cmd
	addr      string
	done      chan struct{}
	errorLogs atomic.Int64
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	return startChildEnv(t, nil, args...)
}

func startChildEnv(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "ALERT_BRIDGE_CHILD=1", "ALERT_BRIDGE_ARGS="+strings.Join(args, "\x1f")), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Msg   string `json:"msg"`
				Addr  string `json:"addr"`
				Level string `json:"level"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "alert-bridge serving" {
				addrCh <- line.Addr
			}
			if line.Level == "ERROR" {
				c.errorLogs.Add(1)
			}
		}
		cmd.Wait()
		close(c.done)
	}()
	select {
	case c.addr = <-addrCh:
	case <-c.done:
		t.Fatal("alert-bridge child exited before serving")
	case <-time.After(20 * time.Second):
		t.Fatal("alert-bridge child did not start")
	}
	return c
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown path runs
		t.Fatal(err)
	}
	<-c.done
}

// TestCrashKill9 posts alerts while the bridge is SIGKILLed twice and
// restarted on the same outbox. Every acknowledged alert must be delivered,
// and an alert delivered more than once must carry one Idempotency-Key.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	const alerts, senders = 600, 16
	rec := newRecorder(7)
	target := httptest.NewServer(rec)
	defer target.Close()
	db := filepath.Join(t.TempDir(), "outbox.db")
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--target-url", target.URL, "--alertmanager-token", "tok",
		"--backoff-base", "5ms", "--backoff-max", "50ms", "--workers", "8", "--log-level", "info"}

	var mu sync.Mutex
	cur := startChild(t, args...)
	addr := func() string { mu.Lock(); defer mu.Unlock(); return cur.addr }

	var acked atomic.Int64
	var wg sync.WaitGroup
	next := make(chan int)
	client := &http.Client{Timeout: 5 * time.Second}
	for range senders {
		wg.Go(func() {
			for i := range next {
				group := fmt.Sprintf("crash-%04d", i)
				deadline := time.Now().Add(30 * time.Second)
				for {
					if time.Now().After(deadline) {
						t.Errorf("%s never acknowledged", group)
						return
					}
					req, _ := http.NewRequest(http.MethodPost, "http://"+addr()+"/v1/alertmanager", bytes.NewReader(amBody(group)))
					req.Header.Set("Authorization", "Bearer tok")
					resp, err := client.Do(req)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							acked.Add(1)
							break
						}
					}
					time.Sleep(5 * time.Millisecond) // sender retry pause (as Alertmanager retries), not synchronization
				}
			}
		})
	}
	go func() {
		for i := range alerts {
			next <- i
		}
		close(next)
	}()
	for _, at := range []int64{alerts / 3, 2 * alerts / 3} {
		poll(t, fmt.Sprintf("%d acks", at), 30*time.Second, func() bool { return acked.Load() >= at })
		mu.Lock()
		cur.kill(t)
		t.Logf("killed -9 after %d acks, %d deliveries recorded", acked.Load(), len(rec.delivered()))
		cur = startChild(t, args...)
		mu.Unlock()
	}
	wg.Wait()
	defer func() { mu.Lock(); cur.kill(t); mu.Unlock() }()
	if acked.Load() != alerts {
		t.Fatalf("%d of %d acknowledged", acked.Load(), alerts)
	}
	poll(t, "every alert delivered", 30*time.Second, func() bool { return len(rec.delivered()) == alerts })
	dups := 0
	for g, keys := range rec.delivered() {
		if len(keys) != 1 {
			t.Errorf("%s delivered under %d Idempotency-Keys: %v", g, len(keys), keys)
		}
		for _, n := range keys {
			dups += n - 1
		}
	}
	t.Logf("%d alerts, all delivered; %d redeliveries, each with its original Idempotency-Key", alerts, dups)
}

// TestRestartRedeliversPending stops the bridge while the target is down
// and checks a fresh process on the same file delivers everything.
func TestRestartRedeliversPending(t *testing.T) {
	rec := newRecorder(0)
	rec.down.Store(true)
	target := httptest.NewServer(rec)
	defer target.Close()
	db := filepath.Join(t.TempDir(), "outbox.db")
	cfg := bridge.Defaults()
	cfg.Addr, cfg.DB, cfg.TargetURL, cfg.Workers = "127.0.0.1:0", db, target.URL, 4
	cfg.BackoffBase, cfg.BackoffMax, cfg.AttemptTimeout = 5*time.Millisecond, 20*time.Millisecond, time.Second
	start := func() (string, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		ready, done := make(chan string, 1), make(chan error, 1)
		go func() { done <- bridge.Run(ctx, cfg, slog.New(slog.DiscardHandler), ready) }()
		select {
		case a := <-ready:
			return a, func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}
		case err := <-done:
			t.Fatal(err)
		}
		return "", nil
	}
	addr, stop := start()
	for i := range 20 {
		resp, err := http.Post("http://"+addr+"/v1/alertmanager", "application/json", bytes.NewReader(amBody(fmt.Sprint("r", i))))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("post %d: %v %v", i, err, resp)
		}
		resp.Body.Close()
	}
	stop()
	if len(rec.delivered()) != 0 {
		t.Fatal("delivered while the target was down")
	}
	rec.down.Store(false)
	_, stop = start()
	defer stop()
	poll(t, "redelivery after restart", 20*time.Second, func() bool { return len(rec.delivered()) == 20 })
}
