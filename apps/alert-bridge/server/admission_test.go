package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/auth"
	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
	"github.com/unsilo/unsilo/apps/alert-bridge/membudget"
	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
	"github.com/unsilo/unsilo/apps/alert-bridge/store"
)

func startServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Queue == nil {
		st, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		cfg.Queue = st
	}
	cfg.Log = slog.New(slog.DiscardHandler)
	s := New(cfg)
	s.SetReady(true)
	hs := httptest.NewUnstartedServer(s)
	hs.Config.ReadHeaderTimeout = 2 * time.Second
	hs.Start()
	t.Cleanup(hs.Close)
	return s, hs.URL
}

// Slow clients without credentials hold no slot: with every slot's worth
// of them connected and trickling their body, a valid webhook still gets
// its 200 (it was a 503 when the slot came before auth).
func TestUnauthenticatedSlowClientsTakeNoSlot(t *testing.T) {
	_, u := startServer(t, Config{AlertmanagerAuth: auth.Bearer{Token: "tok"}, MaxInFlight: 16,
		GrafanaHMAC: auth.HMAC{Secret: "s", RequireTS: true}})
	addr := strings.TrimPrefix(u, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 64 { // 4x the slots
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		path, hdr := "/v1/alertmanager", "Authorization: Bearer wrong\r\n"
		if i%2 == 1 {
			path, hdr = "/v1/grafana", "X-Grafana-Alerting-Signature: "+strings.Repeat("ab", 32)+"\r\n" // no timestamp
		}
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: 1000000\r\n\r\n{", path, hdr)
	}
	body := loadgen.Body(loadgen.Spec{Group: "valid"})
	req, _ := http.NewRequest(http.MethodPost, u+"/v1/alertmanager", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("valid webhook behind 64 slow unauthenticated clients: %d %s", resp.StatusCode, raw)
	}
	// Each of them was answered 401 without its body being read.
	for i, c := range conns[:4] {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := readLine(c)
		if !strings.Contains(line, "401") {
			t.Fatalf("slow client %d got %q, want a 401", i, line)
		}
	}
}

func readLine(c net.Conn) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		if _, err := c.Read(one); err != nil {
			return string(b), err
		}
		if one[0] == '\n' {
			return string(b), nil
		}
		b = append(b, one[0])
	}
}

// A client that never finishes its headers is cut off by the header
// timeout; one that authenticates and then trickles its body is cut off by
// the body deadline, releasing its slot and memory.
func TestHeaderAndBodyDeadlines(t *testing.T) {
	_, u := startServer(t, Config{AlertmanagerAuth: auth.Bearer{Token: "tok"}, MinBodyRate: 1 << 30, BodyGrace: time.Second})
	addr := strings.TrimPrefix(u, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/alertmanager HTTP/1.1\r\nHost: x\r\n") // and nothing more
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := c.Read(make([]byte, 1024)); err == nil || time.Since(start) > 8*time.Second {
		t.Fatalf("half-sent headers: %v after %v (want the connection closed by the 2 s header timeout)", err, time.Since(start))
	}
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	fmt.Fprintf(c2, "POST /v1/alertmanager HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nContent-Length: 5000\r\n\r\n{")
	c2.SetReadDeadline(time.Now().Add(20 * time.Second))
	start = time.Now()
	line, _ := readLine(c2)
	if !strings.Contains(line, "400") || time.Since(start) > 5*time.Second {
		t.Fatalf("trickled body: %q after %v, want a 400 at the 1 s body deadline", line, time.Since(start))
	}
}

// Bodies far over the old 1 MiB limit are accepted: the biggest outages
// are the ones that must reach n8n. 20,000 alerts are ~22 MB.
func TestLargeBodyAccepted(t *testing.T) {
	s, u := startServer(t, Config{MaxBody: 32 << 20, Budget: membudget.New(100 << 20)})
	body := loadgen.Body(loadgen.Spec{Group: "big", Alerts: 20000})
	resp, err := http.Post(u+"/v1/alertmanager", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%d-byte body: %d %s", len(body), resp.StatusCode, raw)
	}
	st := s.cfg.Queue.(*store.Store)
	l, _, err := st.Due(context.Background(), 1)
	if err != nil || len(l) != 1 || !bytes.Equal(l[0].Message().Notification.Raw, body) || l[0].Message().Notification.Alerts != 20000 {
		t.Fatalf("stored: %v %v", l, err)
	}
	t.Logf("%d-byte body of 20,000 alerts stored whole", len(body))
	// Over --max-body: 413 from Content-Length, before reading it.
	resp, err = http.Post(u+"/v1/alertmanager", "application/json", bytes.NewReader(make([]byte, 33<<20)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("33 MiB: %d", resp.StatusCode)
	}
}

// The byte budget admits as many bodies as fit and makes the rest wait
// (then 503 + Retry-After, which Alertmanager and Grafana retry).
func TestMemoryBudgetBoundsBodies(t *testing.T) {
	release := make(chan struct{})
	q := &blockingQueue{release: release}
	b := membudget.New(4 << 20)
	_, u := startServer(t, Config{Queue: q, Budget: b, BudgetWait: 200 * time.Millisecond, MaxBody: 2 << 20})
	body := loadgen.Body(loadgen.Spec{Group: "g", Alerts: 900}) // ~0.8 MB: each request holds ~1.6 MB
	codes := make(chan int, 8)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			resp, err := http.Post(u+"/v1/alertmanager", "application/json", bytes.NewReader(bytes.Replace(body, []byte(`"g"`), fmt.Appendf(nil, `"g%d"`, i), 1)))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	// Two are admitted and block in the queue; the other six wait 200 ms for memory, then 503.
	rejected := 0
	for range 6 {
		if c := <-codes; c == 503 {
			rejected++
		}
	}
	// The two admitted ones may still be decoding: wait for them to reach the store.
	for deadline := time.Now().Add(10 * time.Second); q.entered() < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	if rejected != 6 || b.InUse() > b.Total() || q.entered() != 2 {
		t.Fatalf("%d rejected, %d admitted, %d of %d bytes held", rejected, q.entered(), b.InUse(), b.Total())
	}
	close(release)
	wg.Wait()
	if b.InUse() != 0 {
		t.Fatalf("%d bytes still held after every request ended", b.InUse())
	}
}

// blockingQueue holds every Enqueue until release (a slow disk).
type blockingQueue struct {
	mu      sync.Mutex
	n       int
	release chan struct{}
	health  error
}

func (q *blockingQueue) entered() int { q.mu.Lock(); defer q.mu.Unlock(); return q.n }
func (q *blockingQueue) Enqueue(ctx context.Context, _ *payload.Notification) (outbox.EnqueueResult, error) {
	q.mu.Lock()
	q.n++
	q.mu.Unlock()
	select {
	case <-q.release:
		return outbox.EnqueueResult{ID: "x"}, nil
	case <-ctx.Done():
		return outbox.EnqueueResult{}, ctx.Err()
	}
}
func (q *blockingQueue) Due(context.Context, int) ([]outbox.Lease, time.Duration, error) {
	return nil, time.Second, nil
}
func (q *blockingQueue) Expedite(context.Context) error { return nil }
func (q *blockingQueue) Healthy() error                 { return q.health }
func (q *blockingQueue) Depth() int64                   { return 0 }
func (q *blockingQueue) DeadCount() int64               { return 0 }

func TestReadinessFollowsStoreHealth(t *testing.T) {
	q := &blockingQueue{release: make(chan struct{})}
	_, u := startServer(t, Config{Queue: q})
	get := func() (int, string) {
		resp, err := http.Get(u + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if c, _ := get(); c != 200 {
		t.Fatalf("healthy store: readyz %d", c)
	}
	q.health = errors.New("store commit: write /data/alert-bridge.db: no space left on device")
	if c, b := get(); c != 503 || !strings.Contains(b, "no space left") {
		t.Fatalf("failing store: readyz %d %s", c, b)
	}
}

func TestWatchdogIsAHeartbeat(t *testing.T) {
	beats := 0
	s, u := startServer(t, Config{Heartbeat: func() { beats++ }, IsHeartbeat: func(n *payload.Notification) bool { return n.AlertName == "Watchdog" }})
	wd := bytes.ReplaceAll(loadgen.Body(loadgen.Spec{Group: "wd"}), []byte("KubePodCrashLooping"), []byte("Watchdog"))
	resp, err := http.Post(u+"/v1/alertmanager", "application/json", bytes.NewReader(wd))
	if err != nil {
		t.Fatal(err)
	}
	var ack Ack
	json.NewDecoder(resp.Body).Decode(&ack)
	resp.Body.Close()
	if ack.Status != "heartbeat" || beats != 1 || s.cfg.Queue.Depth() != 0 {
		t.Fatalf("ack %+v beats %d depth %d: the Watchdog must feed the switch, not n8n", ack, beats, s.cfg.Queue.Depth())
	}
}
