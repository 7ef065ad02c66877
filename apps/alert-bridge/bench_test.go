package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkIngestHTTP measures acknowledged webhooks/s through the real
// HTTP handler and the fsync'd outbox, with delivery to a local target
// running at the same time, and reports ack p50/p99.
func BenchmarkIngestHTTP(b *testing.B) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer target.Close()
	cfg := serveConfig{addr: "127.0.0.1:0", db: filepath.Join(b.TempDir(), "bench.db"), targetURL: target.URL, maxBody: 1 << 20,
		dedupeWindow: time.Minute, workers: 8, backoffBase: 10 * time.Millisecond, backoffMax: time.Second, maxAge: time.Hour,
		attemptTimeout: 5 * time.Second, shutdownTimeout: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.DiscardHandler), ready) }()
	addr := <-ready
	defer func() { cancel(); <-done }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var seq atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			body, _ := loadBody("alertmanager", seq.Add(1), 1, "2026-01-01T00:00:00Z")
			t0 := time.Now()
			resp, err := client.Post("http://"+addr+"/v1/alertmanager", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "alerts/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}
