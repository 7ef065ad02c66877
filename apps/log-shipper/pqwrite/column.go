package pqwrite

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

const (
	convertedUTF8            = deprecated.UTF8
	convertedInt32           = deprecated.Int32
	convertedInt64           = deprecated.Int64
	convertedTimestampMicros = deprecated.TimestampMicros
)

// column buffers one column of the current row group: the page being
// filled, the row group's dictionary, and the pages already encoded.
//
// Encodings (chosen by measuring against DuckDB's writer on the same
// rows): strings and doubles go through a dictionary (load balancer,
// target group, user agent and processing times repeat) until it passes
// Options.DictionaryBytes, then PLAIN for the rest of the row group (trace
// ids, client addresses); int64s (timestamps, byte counts) are delta
// packed; int32s (ports, status codes) and booleans are PLAIN.
type column struct {
	name  string
	kind  schema.Kind
	ptype format.Type
	opt   Options

	// the page being filled
	defs     []byte  // definition level per row: 0 null, 1 value
	plain    []byte  // PLAIN values (strings after the fallback, int32, double, bool)
	i64      []int64 // int64 values, delta packed at the end of the page
	idx      []int32 // dictionary indices
	pageDict bool    // the page's values are dictionary indices
	pageNull int

	// the row group's dictionary
	useDict  bool
	fallback bool // dictionary full: PLAIN for the rest of the row group
	sdict    map[string]int32
	svals    []string
	fdict    map[uint64]int32
	fvals    []float64
	dictSize int
	lastS    string
	lastIdx  int32
	haveLast bool

	// the row group's chunk
	pages            []byte
	numValues, nulls int64
	uncompressed     int64
	compressed       int64
	dictUncompressed int
	encodings        uint32 // bit per format.Encoding
	dictPages        int32  // data pages of dictionary indices
	plainPages       int32  // data pages of PLAIN (or delta) values
	st               stats

	lvl, vals, body, zbuf []byte
}

func newColumn(c schema.Column, opt Options) *column {
	col := &column{name: c.Name, kind: c.Kind, opt: opt}
	switch c.Kind {
	case schema.String:
		col.ptype, col.useDict, col.sdict = format.ByteArray, true, map[string]int32{}
	case schema.Int:
		col.ptype = format.Int32
	case schema.BigInt, schema.Timestamp:
		col.ptype = format.Int64
	case schema.Double:
		col.ptype, col.useDict, col.fdict = format.Double, true, map[uint64]int32{}
	case schema.Bool:
		col.ptype = format.Boolean
	default:
		panic(fmt.Sprintf("pqwrite: column %s of unknown kind %d", c.Name, c.Kind))
	}
	col.pageDict = col.useDict
	return col
}

// add appends one value (null when v.Kind is 0) to the page, cutting the
// page when it is full.
func (c *column) add(v *schema.Value, w *Writer) error {
	if v.Kind == 0 {
		c.defs = append(c.defs, 0)
		c.pageNull++
		if len(c.defs) >= 8*c.opt.PageBytes { // a long run of nulls: bound the level buffer
			return c.flushPage(w)
		}
		return nil
	}
	// A BigInt fits a Timestamp column: both are int64 microseconds.
	if fits := v.Kind == c.kind || (c.kind == schema.Timestamp && v.Kind == schema.BigInt); !fits {
		return fmt.Errorf("value of kind %d in a column of kind %d", v.Kind, c.kind)
	}
	c.defs = append(c.defs, 1)
	size := 0
	switch c.kind {
	case schema.String:
		if !c.fallback {
			c.idx = append(c.idx, c.lookupString(v.Str))
			if c.dictSize > c.opt.DictionaryBytes {
				return c.startFallback(w)
			}
			size = 4 * len(c.idx)
			break
		}
		c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(len(v.Str)))
		c.plain = append(c.plain, v.Str...)
		c.st.addString(v.Str, true)
		size = len(c.plain)
	case schema.Double:
		if !c.fallback {
			c.idx = append(c.idx, c.lookupDouble(v.Float))
			if c.dictSize > c.opt.DictionaryBytes {
				return c.startFallback(w)
			}
			size = 4 * len(c.idx)
			break
		}
		c.plain = binary.LittleEndian.AppendUint64(c.plain, math.Float64bits(v.Float))
		c.st.addDouble(v.Float)
		size = len(c.plain)
	case schema.Int:
		c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(int32(v.Int)))
		c.st.addInt(int64(int32(v.Int)))
		size = len(c.plain)
	case schema.BigInt, schema.Timestamp:
		c.i64 = append(c.i64, v.Int)
		c.st.addInt(v.Int)
		size = 8 * len(c.i64)
	case schema.Bool:
		b := byte(0)
		if v.Int != 0 {
			b = 1
		}
		c.plain = append(c.plain, b)
		c.st.addInt(int64(b))
		size = len(c.plain) / 8
	}
	if size >= c.opt.PageBytes {
		return c.flushPage(w)
	}
	return nil
}

func (c *column) lookupString(s string) int32 {
	if c.haveLast && s == c.lastS { // runs of one value: no hashing
		return c.lastIdx
	}
	id, ok := c.sdict[s]
	if !ok {
		s = strings.Clone(s) // the dictionary outlives the input line
		id = int32(len(c.svals))
		c.sdict[s] = id
		c.svals = append(c.svals, s)
		c.dictSize += 4 + len(s)
		c.st.addString(s, false)
	}
	// The dictionary's copy, not s: s may be a slice of a large input
	// string that the column would otherwise keep alive.
	c.lastS, c.lastIdx, c.haveLast = c.svals[id], id, true
	return id
}

func (c *column) lookupDouble(f float64) int32 {
	b := math.Float64bits(f)
	id, ok := c.fdict[b]
	if !ok {
		id = int32(len(c.fvals))
		c.fdict[b] = id
		c.fvals = append(c.fvals, f)
		c.dictSize += 8
		c.st.addDouble(f)
	}
	return id
}

// startFallback ends dictionary encoding for the rest of the row group:
// the page so far (dictionary indices) is cut, and further values are
// PLAIN.
func (c *column) startFallback(w *Writer) error {
	if err := c.flushPage(w); err != nil {
		return err
	}
	c.fallback, c.pageDict = true, false
	return nil
}

var levelRLE = rle.Encoding{BitWidth: 1}
var deltaInt64 delta.BinaryPackedEncoding

// flushPage encodes the page (data page v1: definition levels, values),
// compresses it and appends it with its header to the chunk.
func (c *column) flushPage(w *Writer) error {
	n := len(c.defs)
	if n == 0 {
		return nil
	}
	var err error
	if c.lvl, err = levelRLE.EncodeLevels(c.lvl, c.defs); err != nil {
		return fmt.Errorf("encode levels: %w", err)
	}
	body := binary.LittleEndian.AppendUint32(c.body[:0], uint32(len(c.lvl)))
	body = append(body, c.lvl...)
	enc := format.Plain
	switch {
	case n == c.pageNull: // no values
	case c.pageDict:
		enc = format.RLEDictionary
		width := 1
		if d := c.dictLen(); d > 1 {
			width = bits.Len32(uint32(d - 1))
		}
		ie := rle.Encoding{BitWidth: width}
		if c.vals, err = ie.EncodeInt32(c.vals, c.idx); err != nil {
			return fmt.Errorf("encode dictionary indices: %w", err)
		}
		body = append(body, byte(width))
		body = append(body, c.vals...)
	case c.kind == schema.BigInt || c.kind == schema.Timestamp:
		enc = format.DeltaBinaryPacked
		if c.vals, err = deltaInt64.EncodeInt64(c.vals, c.i64); err != nil {
			return fmt.Errorf("delta encode: %w", err)
		}
		body = append(body, c.vals...)
	case c.kind == schema.Bool:
		body = appendBits(body, c.plain)
	default:
		body = append(body, c.plain...)
	}
	c.body = body
	c.zbuf = w.enc.EncodeAll(body, c.zbuf[:0])
	h := format.PageHeader{Type: format.DataPage, UncompressedPageSize: int32(len(body)), CompressedPageSize: int32(len(c.zbuf)),
		DataPageHeader: thrift.New(format.DataPageHeader{NumValues: int32(n), Encoding: enc,
			DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.RLE,
			Statistics: format.Statistics{NullCount: int64(c.pageNull)}})}
	hb, err := w.header(&h)
	if err != nil {
		return err
	}
	c.pages = append(c.pages, hb...)
	c.pages = append(c.pages, c.zbuf...)
	c.uncompressed += int64(len(hb) + len(body))
	c.compressed += int64(len(hb) + len(c.zbuf))
	c.encodings |= 1<<format.RLE | 1<<enc
	if enc == format.RLEDictionary {
		c.dictPages++
	} else {
		c.plainPages++
	}
	c.numValues += int64(n)
	c.nulls += int64(c.pageNull)
	c.defs, c.plain, c.i64, c.idx, c.pageNull = c.defs[:0], c.plain[:0], c.i64[:0], c.idx[:0], 0
	return nil
}

// appendBits bit-packs 0/1 bytes, least significant bit first (PLAIN
// booleans).
func appendBits(dst, b []byte) []byte {
	for i := 0; i < len(b); i += 8 {
		var x byte
		for j := 0; j < 8 && i+j < len(b); j++ {
			x |= b[i+j] << j
		}
		dst = append(dst, x)
	}
	return dst
}

func (c *column) dictLen() int {
	if c.kind == schema.Double {
		return len(c.fvals)
	}
	return len(c.svals)
}

// dictionaryPage returns the row group's dictionary page (header and
// compressed PLAIN values), nil when the column used none.
func (c *column) dictionaryPage(w *Writer) ([]byte, error) {
	n := c.dictLen()
	if !c.useDict || n == 0 {
		return nil, nil
	}
	body := c.body[:0]
	if c.kind == schema.Double {
		for _, f := range c.fvals {
			body = binary.LittleEndian.AppendUint64(body, math.Float64bits(f))
		}
	} else {
		for _, s := range c.svals {
			body = binary.LittleEndian.AppendUint32(body, uint32(len(s)))
			body = append(body, s...)
		}
	}
	c.body = body
	z := w.enc.EncodeAll(body, nil)
	h := format.PageHeader{Type: format.DictionaryPage, UncompressedPageSize: int32(len(body)), CompressedPageSize: int32(len(z)),
		DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{NumValues: int32(n), Encoding: format.Plain})}
	hb, err := w.header(&h)
	if err != nil {
		return nil, err
	}
	c.encodings |= 1 << format.Plain
	c.dictUncompressed = len(hb) + len(body)
	return append(hb, z...), nil
}

// chunkMeta describes the row group's chunk of the column (offsets and
// the dictionary's size are filled in by the writer).
func (c *column) chunkMeta() format.ColumnChunk {
	var encs []format.Encoding
	for e := format.Encoding(0); e < 32; e++ {
		if c.encodings&(1<<e) != 0 {
			encs = append(encs, e)
		}
	}
	sort.Slice(encs, func(i, j int) bool { return encs[i] < encs[j] })
	var es []format.PageEncodingStats
	if c.dictLen() > 0 {
		es = append(es, format.PageEncodingStats{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1})
	}
	if c.dictPages > 0 {
		es = append(es, format.PageEncodingStats{PageType: format.DataPage, Encoding: format.RLEDictionary, Count: c.dictPages})
	}
	if c.plainPages > 0 {
		enc := format.Plain
		if c.kind == schema.BigInt || c.kind == schema.Timestamp {
			enc = format.DeltaBinaryPacked
		}
		es = append(es, format.PageEncodingStats{PageType: format.DataPage, Encoding: enc, Count: c.plainPages})
	}
	return format.ColumnChunk{MetaData: format.ColumnMetaData{
		Type: c.ptype, Encoding: encs, PathInSchema: []string{c.name}, Codec: format.Zstd,
		NumValues: c.numValues, TotalUncompressedSize: c.uncompressed, TotalCompressedSize: c.compressed,
		Statistics: c.st.format(c.kind, c.nulls), EncodingStats: es,
	}}
}

func (c *column) resetChunk() {
	c.pages = c.pages[:0]
	c.numValues, c.nulls, c.uncompressed, c.compressed, c.dictUncompressed = 0, 0, 0, 0, 0
	c.encodings, c.dictPages, c.plainPages = 0, 0, 0
	c.st = stats{}
	c.fallback, c.pageDict, c.dictSize, c.haveLast, c.lastS = false, c.useDict, 0, false, ""
	clear(c.sdict)
	clear(c.fdict)
	c.svals, c.fvals = c.svals[:0], c.fvals[:0]
}
