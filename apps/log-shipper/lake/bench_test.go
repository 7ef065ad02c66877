package lake

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/unsilo/unsilo/apps/log-shipper/gen"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// BenchmarkGzipToParquet: one gzipped ALB file -> partitioned Parquet on
// local disk, end to end. Bytes are the uncompressed log bytes.
func BenchmarkGzipToParquet(b *testing.B) {
	const lines = 50000
	var raw bytes.Buffer
	if err := gen.Write(&raw, gen.Options{Type: schema.ALB, Lines: lines, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	gz := filepath.Join(dir, "alb.log.gz")
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(raw.Bytes())
	zw.Close()
	if err := os.WriteFile(gz, zb.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	inputs, err := LocalInputs(gz)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(raw.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := NewLocalStore(filepath.Join(dir, "lake", string(rune('a'+i%26))))
		if err != nil {
			b.Fatal(err)
		}
		rep, err := (&Ingester{Store: st, Source: schema.ALB}).Run(context.Background(), inputs)
		if err != nil || rep.Records != lines {
			b.Fatalf("%v %+v", err, rep)
		}
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}
