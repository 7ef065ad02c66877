//go:build e2e

// Package e2e runs alert-bridge against a real n8n 1.x (SQLite, loopback)
// with the workflow in platform/n8n/workflows and a local Slack
// incoming-webhook receiver. N8N_BIN, ALERT_BRIDGE_BIN and RAG_API_BIN come
// from `make test-alert-bridge-e2e`.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// slackReceiver stands in for Slack's incoming webhooks on three paths.
// A text containing a key of failFirst is refused (500) that many times;
// one containing a key of delay is answered after that long.
type slackReceiver struct {
	mu        sync.Mutex
	msgs      map[string][]string // path -> accepted texts
	failFirst map[string]int
	delay     map[string]time.Duration
}

func newSlack() *slackReceiver {
	return &slackReceiver{msgs: map[string][]string{}, failFirst: map[string]int{}, delay: map[string]time.Duration{}}
}

func (s *slackReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Text string `json:"text"`
	}
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &m); err != nil || m.Text == "" {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	var wait time.Duration
	for k, d := range s.delay {
		if strings.Contains(m.Text, k) {
			wait = d
		}
	}
	for k, n := range s.failFirst {
		if strings.Contains(m.Text, k) && n > 0 {
			s.failFirst[k] = n - 1
			s.mu.Unlock()
			http.Error(w, "internal_error", http.StatusInternalServerError)
			return
		}
	}
	s.mu.Unlock()
	time.Sleep(wait) // the slow Slack being simulated, not synchronization
	s.mu.Lock()
	s.msgs[r.URL.Path] = append(s.msgs[r.URL.Path], m.Text)
	s.mu.Unlock()
	io.WriteString(w, "ok") // Slack answers a plain "ok"
}

func (s *slackReceiver) snapshot() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]string{}
	for k, v := range s.msgs {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// containing counts accepted messages containing sub, on any path.
func (s *slackReceiver) containing(sub string) int {
	n := 0
	for _, texts := range s.snapshot() {
		for _, t := range texts {
			if strings.Contains(t, sub) {
				n++
			}
		}
	}
	return n
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func poll(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
}

func repoFile(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, env []string, timeout time.Duration, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
	}
	return string(out)
}

// startN8n imports every workflow file of dirs, activates them, starts
// n8n and returns its base URL once the production webhook answers.
func startN8n(t *testing.T, slackURL string, dirs ...string) string {
	t.Helper()
	n8n := os.Getenv("N8N_BIN")
	if n8n == "" {
		t.Fatal("N8N_BIN must be set (make test-alert-bridge-e2e)")
	}
	port := freePort(t)
	home := t.TempDir()
	env := append(os.Environ(),
		"N8N_USER_FOLDER="+home, "DB_TYPE=sqlite", fmt.Sprintf("N8N_PORT=%d", port), "N8N_LISTEN_ADDRESS=127.0.0.1",
		"N8N_HOST=127.0.0.1", "N8N_PROTOCOL=http", fmt.Sprintf("WEBHOOK_URL=http://127.0.0.1:%d/", port),
		"N8N_DIAGNOSTICS_ENABLED=false", "N8N_VERSION_NOTIFICATIONS_ENABLED=false", "N8N_TEMPLATES_ENABLED=false",
		"N8N_PERSONALIZATION_ENABLED=false", "N8N_SECURE_COOKIE=false", "N8N_BLOCK_ENV_ACCESS_IN_NODE=false",
		"N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=false", "GENERIC_TIMEZONE=UTC",
		"DB_SQLITE_POOL_SIZE=0", "N8N_LOG_LEVEL=warn",
		"SLACK_WEBHOOK_CRITICAL_URL="+slackURL+"/critical",
		"SLACK_WEBHOOK_TEAMS_URL="+slackURL+"/teams",
		"SLACK_WEBHOOK_URL="+slackURL+"/default",
	)
	for _, dir := range dirs {
		// One workflow object per file: --separate imports the whole directory.
		t.Log(run(t, env, 3*time.Minute, n8n, "import:workflow", "--separate", "--input="+dir))
	}
	t.Log(run(t, env, 2*time.Minute, n8n, activateArgs(t, env, n8n)...))
	cmd := exec.Command(n8n, "start")
	cmd.Env = env
	var log bytes.Buffer
	var logMu sync.Mutex
	cmd.Stdout, cmd.Stderr = lockedWriter{&log, &logMu}, lockedWriter{&log, &logMu}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			logMu.Lock()
			t.Logf("n8n log:\n%s", log.String())
			logMu.Unlock()
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	// /healthz/readiness answers before the active workflows' webhooks are
	// registered (they answer 404 until then); n8n logs this line after.
	poll(t, "n8n to register its webhooks", 3*time.Minute, func() bool {
		logMu.Lock()
		defer logMu.Unlock()
		return strings.Contains(log.String(), "Editor is now accessible")
	})
	return base
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

type bridgeProc struct {
	addr string
	log  func() string
}

// startBridge runs the alert-bridge binary with args (plus a fresh outbox
// and a loopback address) and returns its address.
func startBridge(t *testing.T, args ...string) *bridgeProc {
	t.Helper()
	bin := os.Getenv("ALERT_BRIDGE_BIN")
	if bin == "" {
		t.Fatal("ALERT_BRIDGE_BIN must be set (make test-alert-bridge-e2e)")
	}
	db := filepath.Join(t.TempDir(), "outbox.db")
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--log-level", "debug", "--require-ok"}, args...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var mu sync.Mutex
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			buf.Write(append(sc.Bytes(), '\n'))
			mu.Unlock()
			var l struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "alert-bridge serving" {
				addrCh <- l.Addr
			}
		}
	}()
	b := &bridgeProc{log: func() string { mu.Lock(); defer mu.Unlock(); return buf.String() }}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			t.Logf("alert-bridge log:\n%s", b.log())
		}
	})
	select {
	case b.addr = <-addrCh:
	case <-time.After(20 * time.Second):
		t.Fatal("alert-bridge did not start")
	}
	return b
}

// post sends a webhook and returns the answer, failing on non-200.
func post(t *testing.T, url string, body []byte, h map[string]string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, raw)
	}
	return string(raw)
}

// outboxEmpty reports whether the bridge has delivered everything.
func (b *bridgeProc) outboxEmpty() bool {
	resp, err := http.Get("http://" + b.addr + "/readyz")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var r struct {
		OutboxDepth int `json:"outboxDepth"`
	}
	return json.NewDecoder(resp.Body).Decode(&r) == nil && r.OutboxDepth == 0
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newSlackServer(t *testing.T) (*slackReceiver, string) {
	s := newSlack()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}
