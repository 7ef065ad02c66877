//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestAlertBridgeN8nSlack runs one real n8n with the shipped workflow
// (and a copy of it with a tiny dedupe history) and checks what reaches
// Slack: the routing and enrichment of real payloads, and exactly one
// message per notification through duplicates, a workflow slower than
// the bridge's attempt timeout, a failing Slack, and a full history.
func TestAlertBridgeN8nSlack(t *testing.T) {
	rag := os.Getenv("RAG_API_BIN")
	if rag == "" {
		t.Fatal("RAG_API_BIN must be set (make test-alert-bridge-e2e)")
	}
	ragURL := startRagAPI(t, rag)
	slack, slackURL := newSlackServer(t)
	small := smallHistoryWorkflow(t)
	base := startN8n(t, slackURL, repoFile(t, "platform/n8n/workflows"), small)

	t.Run("pipeline", func(t *testing.T) { pipeline(t, slack, base, ragURL) })
	t.Run("same key twice, one Slack message", func(t *testing.T) {
		body := []byte(`{"id":"dup-1","status":"firing","alertname":"DupCheck","severity":"critical","summary":"posted twice","alerts":1,"firing":1}`)
		h := map[string]string{"Idempotency-Key": "dup-1"}
		first := post(t, base+"/webhook/alert-bridge", body, h)
		second := post(t, base+"/webhook/alert-bridge", body, h)
		if strings.Contains(first, "duplicate") || !strings.Contains(second, `"duplicate":true`) {
			t.Fatalf("answers %s then %s", first, second)
		}
		if n := slack.containing("DupCheck"); n != 1 {
			t.Fatalf("%d Slack messages for one Idempotency-Key posted twice", n)
		}
	})
	t.Run("workflow slower than the attempt timeout", func(t *testing.T) {
		slack.mu.Lock()
		slack.delay["SlowWorkflow"] = 3 * time.Second
		slack.mu.Unlock()
		b := startBridge(t, "--target-url", base+"/webhook/alert-bridge", "--attempt-timeout", "1s",
			"--backoff-base", "200ms", "--backoff-max", "500ms")
		post(t, "http://"+b.addr+"/v1/alertmanager", rename(fixture(t, "alertmanager-v4-firing.json"), "SlowWorkflow"), nil)
		poll(t, "delivery", 60*time.Second, b.outboxEmpty)
		time.Sleep(4 * time.Second) // the first execution's Slack call finishes after the bridge gave up on it
		if !strings.Contains(b.log(), "delivery failed, retrying") {
			t.Fatal("the first attempt did not time out: the scenario did not happen")
		}
		if n := slack.containing("SlowWorkflow"); n != 1 {
			t.Fatalf("%d Slack messages; the re-POST after the attempt timeout must be dropped as a duplicate", n)
		}
	})
	t.Run("Slack failing is retried, then one message", func(t *testing.T) {
		slack.mu.Lock()
		slack.failFirst["FlakySlack"] = 3 // n8n's HTTP node tries 3 times: the first execution fails
		slack.mu.Unlock()
		b := startBridge(t, "--target-url", base+"/webhook/alert-bridge", "--backoff-base", "200ms", "--backoff-max", "500ms")
		post(t, "http://"+b.addr+"/v1/alertmanager", rename(fixture(t, "alertmanager-v4-firing.json"), "FlakySlack"), nil)
		poll(t, "delivery", 60*time.Second, b.outboxEmpty)
		if n := slack.containing("FlakySlack"); n != 1 {
			t.Fatalf("%d Slack messages after a failed first execution, want 1", n)
		}
		if !strings.Contains(b.log(), "Slack webhook failed") {
			t.Fatal("the workflow did not report the Slack failure to the bridge")
		}
	})
	t.Run("full dedupe history does not stop the workflow", func(t *testing.T) {
		// n8n's Remove Duplicates node errors on every execution once its
		// history is full (n8n-io/n8n#38475); the workflow resets it.
		for i := range 6 {
			key := fmt.Sprint("full-", i)
			body := fmt.Appendf(nil, `{"id":%q,"status":"firing","alertname":"HistoryFull%d","severity":"critical","summary":"x","alerts":1,"firing":1}`, key, i)
			if got := post(t, base+"/webhook/alert-bridge-small", body, map[string]string{"Idempotency-Key": key}); !strings.Contains(got, `"ok":true`) {
				t.Fatalf("key %d: %s", i, got)
			}
		}
		if n := slack.containing("HistoryFull"); n != 6 {
			t.Fatalf("%d of 6 reached Slack with a history of 3", n)
		}
	})
}

// smallHistoryWorkflow writes a copy of the shipped workflow with a dedupe
// history of 3 on its own webhook path.
func smallHistoryWorkflow(t *testing.T) string {
	raw, err := os.ReadFile(repoFile(t, "platform/n8n/workflows/alert-bridge-slack.json"))
	if err != nil {
		t.Fatal(err)
	}
	var wf map[string]any
	if err := json.Unmarshal(raw, &wf); err != nil {
		t.Fatal(err)
	}
	wf["id"], wf["name"] = "AlertBridgeSmallHistory", "alert-bridge: small dedupe history (test)"
	found := false
	for _, n := range wf["nodes"].([]any) {
		node := n.(map[string]any)
		params := node["parameters"].(map[string]any)
		switch node["type"] {
		case "n8n-nodes-base.webhook":
			params["path"] = "alert-bridge-small"
			node["webhookId"] = "6f1d8f8e-6a55-4d1f-9a51-3c1e0b8a2d02"
		case "n8n-nodes-base.removeDuplicates":
			if opts, ok := params["options"].(map[string]any); ok && opts["historySize"] != nil {
				opts["historySize"] = 3
				found = true
			}
		}
	}
	if !found {
		t.Fatal("the shipped workflow has no Remove Duplicates node with a history size")
	}
	dir := t.TempDir()
	out, _ := json.Marshal(wf)
	if err := os.WriteFile(filepath.Join(dir, "small.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func rename(body []byte, alertname string) []byte {
	return []byte(strings.ReplaceAll(strings.ReplaceAll(string(body), "KubePodCrashLooping", alertname), `"groupKey": "{}`, `"groupKey": "{`+alertname+`}`))
}

func pipeline(t *testing.T, slack *slackReceiver, base, ragURL string) {
	b := startBridge(t, "--target-url", base+"/webhook/alert-bridge", "--alertmanager-token", "am", "--grafana-hmac-secret", "gr",
		"--backoff-base", "200ms", "--backoff-max", "2s", "--lake-url-template", "https://lake.example/q?alert={alertname}",
		"--rag-url", ragURL, "--rag-timeout", "2s")
	am := map[string]string{"Authorization": "Bearer am"}
	warning := strings.NewReplacer(`"severity": "critical"`, `"severity": "warning"`, `KubePodCrashLooping`, `KubeDeploymentReplicasMismatch`,
		`Pod is crash looping.`, `Deployment has not matched the expected number of replicas.`).
		Replace(string(fixture(t, "alertmanager-v4-firing.json")))
	url := "http://" + b.addr
	post(t, url+"/v1/alertmanager", fixture(t, "alertmanager-v4-firing.json"), am)
	if got := post(t, url+"/v1/alertmanager", fixture(t, "alertmanager-v4-firing.json"), am); !strings.Contains(got, "duplicate") {
		t.Fatalf("HA copy not deduped: %s", got)
	}
	post(t, url+"/v1/alertmanager", []byte(warning), am)
	gr := fixture(t, "grafana-default-firing.json")
	ts := fmt.Sprint(time.Now().Unix())
	post(t, url+"/v1/grafana", gr, map[string]string{"X-Grafana-Alerting-Signature": sign("gr", ts, gr), "X-Grafana-Alerting-Signature-Timestamp": ts})
	post(t, url+"/v1/alertmanager", fixture(t, "alertmanager-v4-resolved.json"), am)

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
		for p, v := range slack.snapshot() {
			if want[p] != nil {
				n += len(v)
			}
		}
		return n
	}
	poll(t, fmt.Sprintf("%d Slack messages", total), 90*time.Second, func() bool { return count() >= total })
	// Everything is delivered once the bridge's outbox is empty; after that
	// no further Slack message may appear.
	poll(t, "empty outbox", 30*time.Second, b.outboxEmpty)
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
