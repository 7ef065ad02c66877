// Package pqwrite writes Parquet files of one flat schema of nullable
// columns, the shape of every lake table, column by column: each value
// goes straight into its column's page buffer (dictionary indices, plain
// bytes, delta-packed int64s), pages are compressed with zstd as they fill,
// and a row group is written when it is full. It does what a general
// writer does per value through rows, interfaces and levels, for a fixed
// set of types; the page, footer and encoding formats come from
// parquet-go's format and encoding packages, and its reader (and DuckDB's)
// read the files back in the tests.
package pqwrite

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// Options are the writer's layout choices; zero values take the defaults.
type Options struct {
	// RowGroupRows bounds a row group (buffered whole, compressed).
	RowGroupRows int
	// PageBytes is the uncompressed size at which a data page is cut.
	PageBytes int
	// DictionaryBytes is where a column's dictionary gives way to PLAIN
	// for the rest of the row group.
	DictionaryBytes int
	// CreatedBy is the footer's created_by.
	CreatedBy string
}

// Defaults, chosen by measuring DuckDB's writer on the same rows
// (query/size_test.go).
const (
	DefaultRowGroupRows    = 128 << 10
	DefaultPageBytes       = 128 << 10
	DefaultDictionaryBytes = 128 << 10
	DefaultCreatedBy       = "log-shipper version 1 (build unsilo)"
)

var magic = []byte("PAR1")

// Writer writes one Parquet file. It is not safe for concurrent use.
type Writer struct {
	out     *bufio.Writer
	offset  int64
	src     *schema.Source
	cols    []*column
	opt     Options
	enc     *zstd.Encoder
	thrift  thrift.CompactProtocol
	rgRows  int
	rows    int64
	groups  []format.RowGroup
	err     error
	started bool
}

// New returns a writer of records of src to out. Nothing is written
// until the first row or Close.
func New(out io.Writer, src *schema.Source, opt Options) (*Writer, error) {
	if opt.RowGroupRows <= 0 {
		opt.RowGroupRows = DefaultRowGroupRows
	}
	if opt.PageBytes <= 0 {
		opt.PageBytes = DefaultPageBytes
	}
	if opt.DictionaryBytes <= 0 {
		opt.DictionaryBytes = DefaultDictionaryBytes
	}
	if opt.CreatedBy == "" {
		opt.CreatedBy = DefaultCreatedBy
	}
	// One goroutine, no checksum, no frame for empty input: the settings
	// of parquet-go's zstd codec, so the pages are what it would write.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
	if err != nil {
		return nil, fmt.Errorf("zstd encoder: %w", err)
	}
	w := &Writer{out: bufio.NewWriterSize(out, 256<<10), src: src, opt: opt, enc: enc}
	for _, c := range src.Columns {
		w.cols = append(w.cols, newColumn(c, opt))
	}
	return w, nil
}

// Rows is the number of rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

// Write appends one row: values in the order of the source's columns
// (schema.Record.Values). Values are copied; the slice may be reused.
func (w *Writer) Write(values []schema.Value) error {
	if w.err != nil {
		return w.err
	}
	if len(values) != len(w.cols) {
		return fmt.Errorf("parquet %s: row of %d values, schema has %d columns", w.src.Name, len(values), len(w.cols))
	}
	for i, c := range w.cols {
		if err := c.add(&values[i], w); err != nil {
			w.err = fmt.Errorf("parquet %s.%s: %w", w.src.Name, c.name, err)
			return w.err
		}
	}
	w.rows++
	w.rgRows++
	if w.rgRows >= w.opt.RowGroupRows {
		return w.flushRowGroup()
	}
	return nil
}

// Close writes the last row group and the footer; it does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.rgRows > 0 {
		if err := w.flushRowGroup(); err != nil {
			return err
		}
	}
	if err := w.start(); err != nil {
		return err
	}
	meta := format.FileMetaData{
		Version:   1,
		Schema:    w.schemaElements(),
		NumRows:   w.rows,
		RowGroups: w.groups,
		CreatedBy: w.opt.CreatedBy,
	}
	for range w.cols {
		meta.ColumnOrders = append(meta.ColumnOrders, format.ColumnOrder{Value: &format.TypeDefinedOrder{}})
	}
	b, err := thrift.Marshal(&w.thrift, &meta)
	if err != nil {
		return w.fail(fmt.Errorf("encode parquet footer: %w", err))
	}
	var tail [8]byte
	binary.LittleEndian.PutUint32(tail[:4], uint32(len(b)))
	copy(tail[4:], magic)
	if err := w.write(b); err != nil {
		return err
	}
	if err := w.write(tail[:]); err != nil {
		return err
	}
	if err := w.out.Flush(); err != nil {
		return w.fail(fmt.Errorf("write parquet: %w", err))
	}
	w.err = fmt.Errorf("parquet %s: writer closed", w.src.Name)
	return nil
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return err
}

func (w *Writer) write(b []byte) error {
	if _, err := w.out.Write(b); err != nil {
		return w.fail(fmt.Errorf("write parquet: %w", err))
	}
	w.offset += int64(len(b))
	return nil
}

func (w *Writer) start() error {
	if w.started {
		return nil
	}
	w.started = true
	return w.write(magic)
}

// flushRowGroup writes every column's chunk of the current row group:
// its dictionary page, then its data pages.
func (w *Writer) flushRowGroup() error {
	if err := w.start(); err != nil {
		return err
	}
	rg := format.RowGroup{NumRows: int64(w.rgRows), FileOffset: w.offset, Ordinal: int16(len(w.groups))}
	for _, c := range w.cols {
		if err := c.flushPage(w); err != nil {
			return w.fail(fmt.Errorf("parquet %s.%s: %w", w.src.Name, c.name, err))
		}
		dict, err := c.dictionaryPage(w)
		if err != nil {
			return w.fail(fmt.Errorf("parquet %s.%s: %w", w.src.Name, c.name, err))
		}
		cc := c.chunkMeta()
		start := w.offset
		if len(dict) > 0 {
			cc.MetaData.DictionaryPageOffset = start
			cc.MetaData.TotalUncompressedSize += int64(c.dictUncompressed)
			cc.MetaData.TotalCompressedSize += int64(len(dict))
			if err := w.write(dict); err != nil {
				return err
			}
		}
		cc.FileOffset = start
		cc.MetaData.DataPageOffset = w.offset
		if err := w.write(c.pages); err != nil {
			return err
		}
		rg.TotalByteSize += cc.MetaData.TotalUncompressedSize
		rg.TotalCompressedSize += cc.MetaData.TotalCompressedSize
		rg.Columns = append(rg.Columns, cc)
		c.resetChunk()
	}
	w.groups = append(w.groups, rg)
	w.rgRows = 0
	return nil
}

// header encodes a page header.
func (w *Writer) header(h *format.PageHeader) ([]byte, error) {
	b, err := thrift.Marshal(&w.thrift, h)
	if err != nil {
		return nil, fmt.Errorf("encode page header: %w", err)
	}
	return b, nil
}

func (w *Writer) schemaElements() []format.SchemaElement {
	els := []format.SchemaElement{{Name: w.src.Name, NumChildren: thrift.New(int32(len(w.cols)))}}
	for _, c := range w.cols {
		el := format.SchemaElement{Name: c.name, Type: thrift.New(c.ptype), RepetitionType: thrift.New(format.Optional)}
		switch c.kind {
		case schema.String:
			el.ConvertedType = thrift.New(convertedUTF8)
			el.LogicalType = format.LogicalType{Value: &format.StringType{}}
		case schema.Int:
			el.ConvertedType = thrift.New(convertedInt32)
			el.LogicalType = format.LogicalType{Value: &format.IntType{BitWidth: 32, IsSigned: true}}
		case schema.BigInt:
			el.ConvertedType = thrift.New(convertedInt64)
			el.LogicalType = format.LogicalType{Value: &format.IntType{BitWidth: 64, IsSigned: true}}
		case schema.Timestamp:
			el.ConvertedType = thrift.New(convertedTimestampMicros)
			el.LogicalType = format.LogicalType{Value: &format.TimestampType{IsAdjustedToUTC: true,
				Unit: format.TimeUnit{Value: &format.MicroSeconds{}}}}
		}
		els = append(els, el)
	}
	return els
}
