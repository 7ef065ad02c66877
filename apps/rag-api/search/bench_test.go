package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

// synthCorpus builds n chunks of ~120 words drawn Zipf-like from a mixed
// Korean/English vocabulary, so posting-list lengths look like real text.
func synthCorpus(n int) ([]*doc.Chunk, []string) {
	r := rand.New(rand.NewPCG(1, 2))
	syll := []rune("가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허고노도로모보소오조초코토포호구누두루무부수우주추")
	vocab := make([]string, 20000)
	for i := range vocab {
		if i%2 == 0 {
			l := 2 + r.IntN(3)
			var b strings.Builder
			for j := 0; j < l; j++ {
				b.WriteRune(syll[r.IntN(len(syll))])
			}
			vocab[i] = b.String() + []string{"", "를", "는", "에서", "이다"}[r.IntN(5)]
		} else {
			vocab[i] = fmt.Sprintf("term%dx", i)
		}
	}
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	chunks := make([]*doc.Chunk, n)
	for i := range chunks {
		words := make([]string, 120)
		for j := range words {
			words[j] = vocab[zipf.Uint64()]
		}
		var groups []string
		public := (i/4)%3 != 0 // one file = 4 chunks sharing an ACL
		if !public {
			groups = []string{"g" + fmt.Sprint((i/4)%7)}
		}
		chunks[i] = &doc.Chunk{ID: fmt.Sprint(i), Source: fmt.Sprintf("file:///docs/%d.md", i/4), Title: words[0] + " " + words[1],
			Text: strings.Join(words, " "), Public: public, Groups: groups}
	}
	queries := make([]string, 200)
	for i := range queries {
		q := make([]string, 3+r.IntN(4))
		for j := range q {
			q[j] = vocab[zipf.Uint64()%5000]
		}
		queries[i] = strings.Join(q, " ")
	}
	return chunks, queries
}

// BenchmarkSearch100k reports p50/p95 search latency over 100k chunks with
// ACL filtering on (the target is p95 < 20 ms on the 2-core CI machine).
func BenchmarkSearch100k(b *testing.B) {
	chunks, queries := synthCorpus(100_000)
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
	chunks, _ := synthCorpus(100_000)
	a, _ := NewAnalyzer(DefaultAnalyzer)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := NewMemIndex(a, DefaultTitleWeight, chunks); err != nil {
			b.Fatal(err)
		}
	}
}
