package index_test

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/rag-api/index"
	"github.com/unsilo/unsilo/apps/rag-api/internal/synth"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// rssMB is this process's resident set size.
func rssMB(tb testing.TB) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkOpen100k is start-up with 100k chunks: open the store read-only
// (as the server and the Lambda do) and decode its segments. It reports the
// time to open and the heap and resident memory the loaded index adds.
func BenchmarkOpen100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "ix.db")
	if err := synth.BuildIndex(path, 100_000); err != nil {
		b.Fatal(err)
	}
	an, _ := search.NewAnalyzer(search.DefaultAnalyzer)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap0, rss0 := ms.HeapAlloc, rssMB(b)
	var total time.Duration
	var ix *index.Index
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ix != nil {
			ix.Close()
		}
		start := time.Now()
		var err error
		if ix, err = index.Open(path, an, index.Options{ReadOnly: true, Log: quiet}); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.StopTimer()
	if ix.Len() != 100_000 {
		b.Fatalf("%d chunks loaded", ix.Len())
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "open-ms")
	b.ReportMetric(float64(ms.HeapAlloc-heap0)/(1<<20), "heap-MB")
	b.ReportMetric(rssMB(b)-rss0, "rss-MB")
	st, _ := os.Stat(path)
	b.ReportMetric(float64(st.Size())/(1<<20), "file-MB")
	ix.Close()
}
