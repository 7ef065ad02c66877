package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/rag-api/internal/synth"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

// BenchmarkAsk16 is the serving path under load: the real handler over a
// persisted 100k-chunk index, 16 clients posting /v1/ask (retrieval, ACL,
// extractive answer, JSON) over loopback HTTP. It reports p50/p95/p99
// latency and throughput.
func BenchmarkAsk16(b *testing.B) {
	for _, prf := range []bool{false, true} {
		name := "bm25"
		if prf {
			name = "bm25+prf"
		}
		b.Run(name, func(b *testing.B) { benchAsk(b, prf) })
	}
}

var (
	benchOnce  sync.Once
	benchIndex string
	benchErr   error
)

func benchAsk(b *testing.B, prf bool) {
	benchOnce.Do(func() {
		dir, err := osMkdirTemp()
		if err != nil {
			benchErr = err
			return
		}
		benchIndex = filepath.Join(dir, "ix.db")
		benchErr = synth.BuildIndex(benchIndex, 100_000)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	_, queries := synth.Corpus(1)
	app, err := build(context.Background(), serveOpts{index: benchIndex, analyzer: search.DefaultAnalyzer,
		titleWeight: search.DefaultTitleWeight, readOnly: true, prf: prf})
	if err != nil {
		b.Fatal(err)
	}
	defer app.close()
	ts := httptest.NewServer(app.handler)
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	const clients = 16
	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var failed atomic.Int64
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				body := `{"question":` + quoteJSON(queries[i%int64(len(queries))]) + `}`
				t0 := time.Now()
				resp, err := client.Post(ts.URL+"/v1/ask", "application/json", strings.NewReader(body))
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p int) float64 { return float64(all[len(all)*p/100].Microseconds()) / 1000 }
	b.ReportMetric(pct(50), "p50-ms")
	b.ReportMetric(pct(95), "p95-ms")
	b.ReportMetric(pct(99), "p99-ms")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	// CPU per request (server and clients together, this process) does not
	// depend on what else the machine runs, unlike the latencies above.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(all)), "cpu-ms/req")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
