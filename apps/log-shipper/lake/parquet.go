// Package lake writes parsed records as a Hive-partitioned Parquet lake
// (source=X/dt=YYYY-MM-DD/hour=HH/part-<hash>.parquet), locally or on S3,
// with deterministic object names and a quarantine for rejected input.
package lake

import (
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"

	"github.com/unsilo/unsilo/apps/log-shipper/pqwrite"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// newWriter returns the writer of one data file of a source. Layout
// (pqwrite's defaults, chosen by measuring DuckDB's writer on the same
// rows, query/size_test.go): zstd at its fastest level, dictionary pages
// for strings and doubles with a fall back to PLAIN past 128 KiB per
// column and row group, delta-packed int64s, plain int32s, 128 KiB pages,
// row groups of at most 128k rows. The footer names no version or time,
// so the bytes depend on the records only.
func newWriter(out io.Writer, s *schema.Source) (*pqwrite.Writer, error) {
	return pqwrite.New(out, s, pqwrite.Options{})
}

// ReadFile reads back a Parquet file of a source into records (tests,
// verification). Column order follows the source schema.
func ReadFile(r io.ReaderAt, size int64, s *schema.Source) ([]schema.Record, error) {
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	pos := map[string]int{}
	for i, path := range f.Schema().Columns() {
		pos[path[0]] = i
	}
	pr := parquet.NewReader(f)
	defer func() { _ = pr.Close() }() // reading: nothing to flush
	var out []schema.Record
	rows := make([]parquet.Row, 256)
	for {
		n, err := pr.ReadRows(rows)
		for _, row := range rows[:n] {
			rec := s.NewRecord()
			for i, c := range s.Columns {
				p, ok := pos[c.Name]
				if !ok {
					continue
				}
				pv := row[p]
				if pv.IsNull() {
					continue
				}
				switch c.Kind {
				case schema.String:
					rec.Values[i] = schema.StringOf(string(pv.ByteArray()))
				case schema.Int:
					rec.Values[i] = schema.IntOf(int64(pv.Int32()))
				case schema.BigInt:
					rec.Values[i] = schema.BigIntOf(pv.Int64())
				case schema.Timestamp:
					rec.Values[i] = schema.Value{Kind: schema.Timestamp, Int: pv.Int64()}
				case schema.Double:
					rec.Values[i] = schema.DoubleOf(pv.Double())
				case schema.Bool:
					rec.Values[i] = schema.BoolOf(pv.Boolean())
				}
			}
			rec.Time = rec.Values[s.TimeIndex()].Time()
			out = append(out, rec)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read parquet rows: %w", err)
		}
	}
}
