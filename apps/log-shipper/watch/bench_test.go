package watch

import (
	"fmt"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/log-shipper/gen"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// BenchmarkWatch: 200 ALB objects of 2,000 lines (gzip, five minutes each,
// as ELB delivers them) arrive at once in
// S3 (in-process gofakes3) with their notifications on the fake SQS; one
// watcher drains the queue into a local lake. Reports objects/s and the lag
// from each notification's eventTime to its commit (mean and max). The fakes
// answer in microseconds: real S3 and SQS add their latency per object.
func BenchmarkWatch(b *testing.B) {
	const objects, lines = 200, 2000
	start := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, 5)
		keys, sizes := make([]string, objects), make([]int64, objects)
		for i := range objects {
			keys[i] = fmt.Sprintf("alb/AWSLogs/123456789012/elasticloadbalancing/ap-northeast-2/2026/11/28/o%03d.log.gz", i)
			sizes[i] = e.upload(keys[i], gen.Options{Type: schema.ALB, Lines: lines, Seed: uint64(i), Start: start.Add(time.Duration(i) * 5 * time.Minute), Span: 5 * time.Minute})
		}
		// All notifications at once, stamped now: the lag is the queue's
		// wait plus the ingest, not the setup.
		for i := range objects {
			e.queue.send(notification("ObjectCreated:Put", keys[i], sizes[i]))
		}
		w, _ := e.watcher()
		b.StartTimer()
		t0 := time.Now()
		if err := w.Run(b.Context()); err != nil {
			b.Fatal(err)
		}
		el := time.Since(t0)
		st := w.Stats()
		if st.Objects != objects || st.Records != objects*lines {
			b.Fatalf("stats %+v", st)
		}
		b.ReportMetric(float64(objects)/el.Seconds(), "objects/s")
		b.ReportMetric(float64(objects*lines)/el.Seconds(), "lines/s")
		b.ReportMetric((st.SumLag / objects).Seconds(), "mean-lag-s")
		b.ReportMetric(st.MaxLag.Seconds(), "max-lag-s")
	}
}
