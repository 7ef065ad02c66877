package parse

import (
	"bytes"
	"context"
	"testing"

	"github.com/unsilo/unsilo/apps/log-shipper/gen"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

type countSink struct{ n, bad int }

func (c *countSink) Record(schema.Record) error { c.n++; return nil }
func (c *countSink) Bad(Bad) error              { c.bad++; return nil }

// BenchmarkALBParse: parsing alone (plain text in memory, no output).
func BenchmarkALBParse(b *testing.B) {
	var buf bytes.Buffer
	const lines = 20000
	if err := gen.Write(&buf, gen.Options{Type: schema.ALB, Lines: lines, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	p, _ := New(schema.ALB)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := &countSink{}
		if err := p.Parse(context.Background(), bytes.NewReader(data), "bench", c); err != nil || c.n != lines {
			b.Fatalf("%v %d", err, c.n)
		}
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}
