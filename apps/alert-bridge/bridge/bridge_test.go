package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
)

type outbounds struct {
	mu   sync.Mutex
	seen []map[string]any
}

func (o *outbounds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	json.NewDecoder(r.Body).Decode(&m)
	o.mu.Lock()
	o.seen = append(o.seen, m)
	o.mu.Unlock()
	io.WriteString(w, `{"ok":true}`)
}

func (o *outbounds) statuses(alertname string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, m := range o.seen {
		if m["alertname"] == alertname {
			out = append(out, m["status"].(string))
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

// The assembled bridge: no Watchdog for --deadman-after and the bridge's
// own alert reaches n8n; the Watchdog's return resolves it; the Watchdog
// itself is never forwarded.
func TestDeadMansSwitchEndToEnd(t *testing.T) {
	rec := &outbounds{}
	target := httptest.NewServer(rec)
	defer target.Close()
	c := Defaults()
	c.Addr, c.DB, c.TargetURL, c.DeadmanAfter = "127.0.0.1:0", filepath.Join(t.TempDir(), "db"), target.URL, 2*time.Second
	c.RequireOK = true
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- Run(ctx, c, slog.New(slog.DiscardHandler), ready) }()
	addr := <-ready
	defer func() { cancel(); <-done }()
	waitFor(t, "the dead-man's switch alert", func() bool { return len(rec.statuses("AlertBridgeDeadMansSwitch")) == 1 })
	wd := bytes.ReplaceAll(loadgen.Body(loadgen.Spec{Group: "wd"}), []byte("KubePodCrashLooping"), []byte("Watchdog"))
	resp, err := http.Post("http://"+addr+"/v1/alertmanager", "application/json", bytes.NewReader(wd))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitFor(t, "the resolve", func() bool { return len(rec.statuses("AlertBridgeDeadMansSwitch")) == 2 })
	if got := rec.statuses("AlertBridgeDeadMansSwitch"); got[0] != "firing" || got[1] != "resolved" {
		t.Fatalf("statuses %v", got)
	}
	if n := len(rec.statuses("Watchdog")); n != 0 {
		t.Fatalf("the Watchdog was forwarded %d times", n)
	}
}

func decodeJSON(r *http.Request, v any) { json.NewDecoder(r.Body).Decode(v) }
