//go:build e2e

// Package e2e runs alert-bridge against a real n8n 1.x (SQLite, loopback)
// with the workflow in platform/n8n/workflows and a local Slack
// incoming-webhook receiver. N8N_BIN and ALERT_BRIDGE_BIN come from
// `make test-alert-bridge-e2e`.
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
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

type slackReceiver struct {
	mu   sync.Mutex
	msgs map[string][]string // path -> texts
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

func TestAlertBridgeN8nSlack(t *testing.T) {
	n8n, bridge, rag := os.Getenv("N8N_BIN"), os.Getenv("ALERT_BRIDGE_BIN"), os.Getenv("RAG_API_BIN")
	if n8n == "" || bridge == "" || rag == "" {
		t.Fatal("N8N_BIN, ALERT_BRIDGE_BIN and RAG_API_BIN must be set (make test-alert-bridge-e2e)")
	}
	ragURL := startRagAPI(t, rag)
	slack := &slackReceiver{msgs: map[string][]string{}}
	slackSrv := httptest.NewServer(slack)
	defer slackSrv.Close()

	port := freePort(t)
	home := t.TempDir()
	env := append(os.Environ(),
		"N8N_USER_FOLDER="+home, "DB_TYPE=sqlite", fmt.Sprintf("N8N_PORT=%d", port), "N8N_LISTEN_ADDRESS=127.0.0.1",
		"N8N_HOST=127.0.0.1", "N8N_PROTOCOL=http", fmt.Sprintf("WEBHOOK_URL=http://127.0.0.1:%d/", port),
		"N8N_DIAGNOSTICS_ENABLED=false", "N8N_VERSION_NOTIFICATIONS_ENABLED=false", "N8N_TEMPLATES_ENABLED=false",
		"N8N_PERSONALIZATION_ENABLED=false", "N8N_SECURE_COOKIE=false", "N8N_BLOCK_ENV_ACCESS_IN_NODE=false",
		"N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=false", "GENERIC_TIMEZONE=UTC",
		"DB_SQLITE_POOL_SIZE=0", "N8N_LOG_LEVEL=warn",
		"SLACK_WEBHOOK_CRITICAL_URL="+slackSrv.URL+"/critical",
		"SLACK_WEBHOOK_TEAMS_URL="+slackSrv.URL+"/teams",
		"SLACK_WEBHOOK_URL="+slackSrv.URL+"/default",
	)
	// One workflow object per file: --separate imports the whole directory.
	workflows := repoFile(t, "platform/n8n/workflows")
	t.Log(run(t, env, 3*time.Minute, n8n, "import:workflow", "--separate", "--input="+workflows))
	t.Log(run(t, env, 2*time.Minute, n8n, activateArgs(t, env, n8n)...))

	n8nCmd := exec.Command(n8n, "start")
	n8nCmd.Env = env
	var n8nLog bytes.Buffer
	n8nCmd.Stdout, n8nCmd.Stderr = &n8nLog, &n8nLog
	if err := n8nCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		n8nCmd.Process.Signal(os.Interrupt)
		n8nCmd.Wait()
		if t.Failed() {
			t.Logf("n8n log:\n%s", n8nLog.String())
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	poll(t, "n8n /healthz/readiness", 3*time.Minute, func() bool {
		resp, err := http.Get(base + "/healthz/readiness")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// alert-bridge, delivering to the n8n production webhook.
	db := filepath.Join(t.TempDir(), "outbox.db")
	bcmd := exec.Command(bridge, "serve", "--addr", "127.0.0.1:0", "--db", db, "--target-url", base+"/webhook/alert-bridge",
		"--alertmanager-token", "am", "--grafana-hmac-secret", "gr", "--backoff-base", "200ms", "--backoff-max", "2s",
		"--lake-url-template", "https://lake.example/q?alert={alertname}", "--rag-url", ragURL, "--rag-timeout", "2s")
	stderr, _ := bcmd.StderrPipe()
	if err := bcmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { bcmd.Process.Signal(os.Interrupt); bcmd.Wait() }()
	addrCh := make(chan string, 1)
	var bridgeLog bytes.Buffer
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			bridgeLog.Write(append(sc.Bytes(), '\n'))
			logMu.Unlock()
			var l struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "alert-bridge serving" {
				addrCh <- l.Addr
			}
		}
	}()
	defer func() {
		if t.Failed() {
			logMu.Lock()
			t.Logf("alert-bridge log:\n%s", bridgeLog.String())
			logMu.Unlock()
		}
	}()
	var addr string
	select {
	case addr = <-addrCh:
	case <-time.After(20 * time.Second):
		t.Fatal("alert-bridge did not start")
	}

	fixture := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	post := func(path string, body []byte, h map[string]string) string {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
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
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, raw)
		}
		return string(raw)
	}
	am := map[string]string{"Authorization": "Bearer am"}
	warning := strings.NewReplacer(`"severity": "critical"`, `"severity": "warning"`, `KubePodCrashLooping`, `KubeDeploymentReplicasMismatch`,
		`Pod is crash looping.`, `Deployment has not matched the expected number of replicas.`).
		Replace(string(fixture("alertmanager-v4-firing.json")))
	post("/v1/alertmanager", fixture("alertmanager-v4-firing.json"), am)
	if got := post("/v1/alertmanager", fixture("alertmanager-v4-firing.json"), am); !strings.Contains(got, "duplicate") {
		t.Fatalf("HA copy not deduped: %s", got)
	}
	post("/v1/alertmanager", []byte(warning), am)
	gr := fixture("grafana-default-firing.json")
	ts := fmt.Sprint(time.Now().Unix())
	post("/v1/grafana", gr, map[string]string{"X-Grafana-Alerting-Signature": sign("gr", ts, gr), "X-Grafana-Alerting-Signature-Timestamp": ts})
	post("/v1/alertmanager", fixture("alertmanager-v4-resolved.json"), am)

	want := map[string][]string{
		"/critical": {"FIRING KubePodCrashLooping [critical]", "RESOLVED KubePodCrashLooping [critical]"},
		"/teams":    {"FIRING KubeDeploymentReplicasMismatch [warning, team payments]: Deployment has not matched"},
		"/default":  {"FIRING alert1 [none]"},
	}
	total := 0
	for _, v := range want {
		total += len(v)
	}
	count := func() int {
		n := 0
		for _, v := range slack.snapshot() {
			n += len(v)
		}
		return n
	}
	poll(t, fmt.Sprintf("%d Slack messages", total), 90*time.Second, func() bool { return count() >= total })
	// Everything is delivered once the bridge's outbox is empty; after that
	// no further Slack message may appear.
	poll(t, "empty outbox", 30*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var r struct {
			OutboxDepth int `json:"outboxDepth"`
		}
		return json.NewDecoder(resp.Body).Decode(&r) == nil && r.OutboxDepth == 0
	})
	got := slack.snapshot()
	for path, texts := range want {
		if len(got[path]) != len(texts) {
			t.Errorf("%s got %d messages, want %d: %q", path, len(got[path]), len(texts), got[path])
			continue
		}
		sort.Strings(got[path])
		for _, w := range texts {
			found := false
			for _, g := range got[path] {
				found = found || strings.Contains(g, w)
			}
			if !found {
				t.Errorf("%s: no message containing %q in %q", path, w, got[path])
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("messages on unexpected paths: %v", got)
	}
	for _, m := range got["/critical"] {
		if !strings.Contains(m, "Evidence: https://lake.example/q?alert=KubePodCrashLooping") {
			t.Errorf("critical message lacks the evidence link: %q", m)
		}
		if !strings.Contains(m, "Runbook: KubePodCrashLooping runbook (") || !strings.Contains(m, "kube-pod-crash-looping.md") {
			t.Errorf("critical message lacks the rag-api runbook passage: %q", m)
		}
	}
	if m := got["/teams"]; len(m) == 1 && !strings.Contains(m[0], "Runbook: KubeDeploymentReplicasMismatch runbook") {
		t.Errorf("team message lacks its runbook passage: %q", m[0])
	}
	t.Logf("slack messages: %q", got)
}

// startRagAPI serves the runbooks in testdata/runbooks with the real
// rag-api binary and returns its base URL.
func startRagAPI(t *testing.T, bin string) string {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin, "serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--index", filepath.Join(t.TempDir(), "index.db"),
		"--ingest", filepath.Join("..", "testdata", "runbooks"))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			t.Logf("rag-api log:\n%s", log.String())
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	poll(t, "rag-api /healthz", time.Minute, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return base
}
