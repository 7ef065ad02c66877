package bridge

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/unsilo/unsilo/apps/alert-bridge/internal/sqsfake"
	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
)

// keyed records, per Idempotency-Key, how many times it was delivered,
// and per group the statuses in arrival order.
type keyed struct {
	mu     sync.Mutex
	keys   map[string]int
	groups map[string][]string
}

func (k *keyed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var o struct{ GroupKey, Status string }
	decodeJSON(r, &o)
	k.mu.Lock()
	k.keys[r.Header.Get("Idempotency-Key")]++
	k.groups[o.GroupKey] = append(k.groups[o.GroupKey], o.Status)
	k.mu.Unlock()
	w.Write([]byte(`{"ok":true}`))
}

// Two replicas on one SQS FIFO queue, each receiving one copy of every
// notification (an Alertmanager HA pair behind a Service): every
// notification reaches n8n once, under one key, and each group's states
// in order.
func TestTwoReplicasDeliverEachNotificationOnce(t *testing.T) {
	fake := sqsfake.New()
	sqsSrv := httptest.NewServer(fake)
	defer sqsSrv.Close()
	main, dead := fake.Queue(sqsSrv.URL, "alert-bridge.fifo"), fake.Queue(sqsSrv.URL, "alert-bridge-dead.fifo")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	rec := &keyed{keys: map[string]int{}, groups: map[string][]string{}}
	target := httptest.NewServer(rec)
	defer target.Close()
	var addrs []string
	for range 2 {
		c := Defaults()
		c.Addr, c.TargetURL, c.RequireOK = "127.0.0.1:0", target.URL, true
		c.SQS = &SQSConfig{QueueURL: main, DeadQueueURL: dead, Region: "ap-northeast-2", Endpoint: sqsSrv.URL}
		ctx, cancel := context.WithCancel(context.Background())
		ready, done := make(chan string, 1), make(chan error, 1)
		go func() { done <- Run(ctx, c, slog.New(slog.DiscardHandler), ready) }()
		select {
		case a := <-ready:
			addrs = append(addrs, a)
		case err := <-done:
			t.Fatal(err)
		}
		defer func() { cancel(); <-done }()
	}
	const groups = 20
	for g := range groups {
		for _, status := range []string{"firing", "resolved"} {
			body := loadgen.Body(loadgen.Spec{Group: fmt.Sprint("g", g), Status: status})
			for _, a := range addrs { // the HA pair: one copy to each replica
				resp, err := http.Post("http://"+a+"/v1/alertmanager", "application/json", bytes.NewReader(body))
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("post to %s: %v %v", a, err, resp)
				}
				resp.Body.Close()
			}
		}
	}
	waitFor(t, "every group delivered", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		n := 0
		for _, s := range rec.groups {
			n += len(s)
		}
		return n >= 2*groups && fake.Count(main) == 0
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for k, n := range rec.keys {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
	for g, s := range rec.groups {
		if len(s) != 2 || s[0] != "firing" || s[1] != "resolved" {
			t.Errorf("%s got %v, want [firing resolved]", g, s)
		}
	}
	if len(rec.keys) != 2*groups {
		t.Errorf("%d keys for %d notifications", len(rec.keys), 2*groups)
	}
}
