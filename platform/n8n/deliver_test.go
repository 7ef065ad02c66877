//go:build n8n

// Package n8n tests the delivery of the workflows in git to a running n8n:
// deliver-workflows.sh, as the n8n pod's init container runs it, against a
// real n8n 1.x (N8N_BIN, from `make test-n8n-delivery`) on SQLite.
package n8n

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestDeliverWorkflows(t *testing.T) {
	bin := os.Getenv("N8N_BIN")
	if bin == "" {
		t.Fatal("set N8N_BIN (make test-n8n-delivery does)")
	}
	home := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	env := append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"),
		"N8N_USER_FOLDER="+home, "DB_TYPE=sqlite", fmt.Sprintf("N8N_PORT=%d", port), "N8N_LISTEN_ADDRESS=127.0.0.1",
		"N8N_HOST=127.0.0.1", "N8N_PROTOCOL=http", fmt.Sprintf("WEBHOOK_URL=http://127.0.0.1:%d/", port),
		"N8N_DIAGNOSTICS_ENABLED=false", "N8N_VERSION_NOTIFICATIONS_ENABLED=false", "N8N_TEMPLATES_ENABLED=false",
		"N8N_PERSONALIZATION_ENABLED=false", "N8N_SECURE_COOKIE=false", "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=false",
		"N8N_BLOCK_ENV_ACCESS_IN_NODE=false", // the workflow reads its Slack URLs from the environment, as in the cluster
		"N8N_ENCRYPTION_KEY=test-key-for-this-run", "DB_SQLITE_POOL_SIZE=0", "GENERIC_TIMEZONE=UTC",
		// n8n 1.82 prints list:workflow through its logger: below info the ids vanish.
		"N8N_LOG_LEVEL=info")

	// Twice, as every restart of the pod does: the second run must succeed
	// and change nothing (the workflow keeps its id).
	for i := 0; i < 2; i++ {
		out := sh(t, env, "deliver-workflows.sh", "workflows")
		if !strings.Contains(out, "delivered workflow AlertBridgeRoute from workflows/alert-bridge-slack.json") {
			t.Fatalf("run %d: %s", i+1, out)
		}
	}
	// n8n prints its settings and deprecation notes on stdout too: the ids
	// are the lines that are nothing but an id.
	var active []string
	for _, l := range strings.Split(run(t, env, bin, "list:workflow", "--active=true", "--onlyId"), "\n") {
		if l = strings.TrimSpace(l); idRE.MatchString(l) {
			active = append(active, l)
		}
	}
	if strings.Join(active, ",") != "AlertBridgeRoute" {
		t.Errorf("active workflows after two deliveries: %v, want exactly AlertBridgeRoute", active)
	}

	// An empty folder is an error, not a silent success.
	empty := t.TempDir()
	cmd := exec.Command("sh", "deliver-workflows.sh", empty)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "no workflows in") {
		t.Errorf("delivering nothing must fail: %v %s", err, out)
	}

	// n8n starts and serves the workflow's production webhook: what
	// alert-bridge posts to in the cluster (/webhook/alert-bridge).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := exec.CommandContext(ctx, bin, "start")
	n.Env = env
	var log bytes.Buffer
	n.Stdout, n.Stderr = &log, &log
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = n.Wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		resp, err := http.Get(base + "/healthz/readiness")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("n8n not ready:\n%s", log.String())
		}
		time.Sleep(time.Second) // polling a process we started; there is no event to wait on
	}
	// n8n reports ready before it has registered the active workflows'
	// webhooks: wait for the route, as alert-bridge's retries would.
	deadline = time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Post(base+"/webhook/alert-bridge", "application/json", strings.NewReader(`{"alerts":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/webhook/alert-bridge still answers 404: the delivered workflow is not active: %s\n%s", body, log.String())
		}
		time.Sleep(time.Second) // polling a process we started; there is no event to wait on
	}
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

func sh(t *testing.T, env []string, args ...string) string {
	t.Helper()
	return run(t, env, "sh", args...)
}

func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // each n8n command boots n8n: slow on a busy machine
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}
