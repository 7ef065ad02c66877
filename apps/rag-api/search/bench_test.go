package search_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/rag-api/internal/synth"
	. "github.com/unsilo/unsilo/apps/rag-api/search"
)

// BenchmarkSearch100k reports p50/p95 search latency over 100k chunks with
// ACL filtering on (the target is p95 < 20 ms on the 2-core CI machine).
func BenchmarkSearch100k(b *testing.B) {
	chunks, queries := synth.Corpus(100_000)
	a, _ := NewAnalyzer(DefaultAnalyzer)
	ix, err := NewMemIndex(a, DefaultTitleWeight, chunks)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := ix.Search(ctx, Query{Text: queries[i%len(queries)], TopK: 10, Groups: []string{"g1"}}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}

// BenchmarkIndex100k measures building the in-memory index (start-up cost).
func BenchmarkIndex100k(b *testing.B) {
	chunks, _ := synth.Corpus(100_000)
	a, _ := NewAnalyzer(DefaultAnalyzer)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := NewMemIndex(a, DefaultTitleWeight, chunks); err != nil {
			b.Fatal(err)
		}
	}
}
