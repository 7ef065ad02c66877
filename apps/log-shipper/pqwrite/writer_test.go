package pqwrite

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// testSource has a column of every kind the lake uses.
var testSource = &schema.Source{Name: "t", Columns: []schema.Column{
	{Name: "s", Kind: schema.String}, {Name: "few", Kind: schema.String}, {Name: "i", Kind: schema.Int},
	{Name: "b", Kind: schema.BigInt}, {Name: "ts", Kind: schema.Timestamp}, {Name: "f", Kind: schema.Double},
	{Name: "ok", Kind: schema.Bool}, {Name: "none", Kind: schema.String},
}}

// rows makes n rows: unique strings (the dictionary falls back), a few
// repeating ones in runs and not, ints of both signs, NaN and -0.0, 1 in 7
// values null, and a column that is always null.
func rows(n int, seed uint64) [][]schema.Value {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][]schema.Value, n)
	for k := range out {
		v := make([]schema.Value, len(testSource.Columns))
		v[0] = schema.StringOf(fmt.Sprintf("id-%016x-%d", r.Uint64(), k))
		v[1] = schema.StringOf([]string{"GET", "POST", "", "é-ü", strings.Repeat("long", 30)}[r.IntN(5)])
		if k%50 < 20 {
			v[1] = schema.StringOf("run")
		}
		v[2] = schema.IntOf(int64(int32(r.Uint32())))
		v[3] = schema.BigIntOf(int64(r.Uint64()))
		v[4] = schema.Value{Kind: schema.Timestamp, Int: 1_764_000_000_000_000 + int64(k)*1000 + r.Int64N(999)}
		v[5] = schema.DoubleOf([]float64{0.001, -1, math.NaN(), math.Copysign(0, -1), r.Float64()}[r.IntN(5)])
		v[6] = schema.BoolOf(r.IntN(2) == 0)
		for c := range len(v) - 1 {
			if r.IntN(7) == 0 {
				v[c] = schema.Value{}
			}
		}
		out[k] = v
	}
	return out
}

func write(t testing.TB, rs [][]schema.Value, opt Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(&buf, testSource, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Rows() != int64(len(rs)) {
		t.Fatalf("Rows() = %d, want %d", w.Rows(), len(rs))
	}
	return buf.Bytes()
}

// read reads a file back with parquet-go's reader, independent of this
// package, into values of the source's kinds.
func read(t testing.TB, b []byte) [][]schema.Value {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("parquet-go cannot open the file: %v", err)
	}
	pos := map[string]int{}
	for i, p := range f.Schema().Columns() {
		pos[p[0]] = i
	}
	r := parquet.NewReader(f)
	defer func() { _ = r.Close() }() // reading
	var out [][]schema.Value
	buf := make([]parquet.Row, 64)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			v := make([]schema.Value, len(testSource.Columns))
			for i, c := range testSource.Columns {
				pv := row[pos[c.Name]]
				if pv.IsNull() {
					continue
				}
				switch c.Kind {
				case schema.String:
					v[i] = schema.StringOf(string(pv.ByteArray()))
				case schema.Int:
					v[i] = schema.IntOf(int64(pv.Int32()))
				case schema.BigInt:
					v[i] = schema.BigIntOf(pv.Int64())
				case schema.Timestamp:
					v[i] = schema.Value{Kind: schema.Timestamp, Int: pv.Int64()}
				case schema.Double:
					v[i] = schema.DoubleOf(pv.Double())
				case schema.Bool:
					v[i] = schema.BoolOf(pv.Boolean())
				}
			}
			out = append(out, v)
		}
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read rows: %v", err)
		}
	}
}

// same compares values, NaN equal to NaN and -0.0 apart from +0.0.
var same = cmp.Comparer(func(a, b schema.Value) bool {
	if a.Kind == schema.Double && b.Kind == schema.Double {
		return math.Float64bits(a.Float) == math.Float64bits(b.Float) || (math.IsNaN(a.Float) && math.IsNaN(b.Float))
	}
	return a == b
})

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		opt    Options
		reason string
	}{
		{"defaults", 5000, Options{}, "one row group, dictionaries within their limit but for the unique strings"},
		{"small pages and row groups", 5000, Options{RowGroupRows: 777, PageBytes: 1 << 10, DictionaryBytes: 2 << 10},
			"many pages per chunk, dictionaries falling back mid row group, a last partial row group"},
		{"one row", 1, Options{}, "a page of one value"},
		{"no rows", 0, Options{}, "a file with a footer only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := rows(tc.n, 7)
			got := read(t, write(t, in, tc.opt))
			if diff := cmp.Diff(in, got, same); diff != "" && (tc.n != 0 || len(got) != 0) { // nil vs empty: same rows
				t.Errorf("%s: read back differs (-written +read):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	in := rows(3000, 3)
	opt := Options{RowGroupRows: 1000, PageBytes: 4 << 10}
	if a, b := write(t, in, opt), write(t, in, opt); !bytes.Equal(a, b) {
		t.Fatal("the same rows gave different bytes: output must depend on the rows only")
	}
}

func TestLayout(t *testing.T) {
	b := write(t, rows(3000, 5), Options{RowGroupRows: 1000, DictionaryBytes: 4 << 10})
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	md := f.Metadata()
	if len(md.RowGroups) != 3 || md.NumRows != 3000 {
		t.Fatalf("%d row groups, %d rows; want 3 of 1000", len(md.RowGroups), md.NumRows)
	}
	if md.CreatedBy != DefaultCreatedBy {
		t.Errorf("created_by %q", md.CreatedBy)
	}
	want := map[string]string{ // column -> encodings, as a reader lists them
		"s": "PLAIN RLE RLE_DICTIONARY", "few": "PLAIN RLE RLE_DICTIONARY", "i": "PLAIN RLE",
		"b": "RLE DELTA_BINARY_PACKED", "ts": "RLE DELTA_BINARY_PACKED", "f": "PLAIN RLE RLE_DICTIONARY",
		"ok": "PLAIN RLE", "none": "PLAIN RLE",
	}
	for _, cc := range md.RowGroups[0].Columns {
		m := cc.MetaData
		var encs []string
		for _, e := range m.Encoding {
			encs = append(encs, e.String())
		}
		if got := strings.Join(encs, " "); got != want[m.PathInSchema[0]] {
			t.Errorf("%s: encodings %s, want %s", m.PathInSchema[0], got, want[m.PathInSchema[0]])
		}
		if m.PathInSchema[0] == "none" && (m.Statistics.NullCount != 1000 || m.Statistics.MinValue != nil || m.DictionaryPageOffset != 0) {
			t.Errorf("all-null column: %+v, want 1000 nulls, no min/max, no dictionary", m.Statistics)
		}
	}
}

func TestStringBounds(t *testing.T) {
	long := strings.Repeat("a", 70)
	for _, tc := range []struct {
		lo, hi, wantLo, wantHi string
		ok                     bool
		reason                 string
	}{
		{"a", "b", "a", "b", true, "short: exact"},
		{long, long + "z", long[:64], long[:63] + "b", true, "long: min cut, max cut and its last byte raised"},
		{"x", strings.Repeat("é", 40), "x", "", false, "a long max of no ASCII byte has no bound"},
		{"x", strings.Repeat("é", 32) + "ab", "x", "", false, "the 64-byte prefix is all runes: no ASCII byte to raise"},
		{"x", "a" + strings.Repeat("é", 40), "x", "b", true, "raised at the last ASCII byte, cut after it"},
		{strings.Repeat("é", 40), "z", strings.Repeat("é", 32), "z", true, "min cut at a rune boundary"},
	} {
		lo, hi, ok := stringBounds(tc.lo, tc.hi)
		if ok != tc.ok || (ok && (lo != tc.wantLo || hi != tc.wantHi)) {
			t.Errorf("%s: got %q %q %v, want %q %q %v", tc.reason, lo, hi, ok, tc.wantLo, tc.wantHi, tc.ok)
		}
		if ok && (lo > tc.lo || hi < tc.hi) {
			t.Errorf("%s: bounds %q..%q do not hold %q..%q", tc.reason, lo, hi, tc.lo, tc.hi)
		}
	}
}

func TestRejects(t *testing.T) {
	w, err := New(io.Discard, testSource, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]schema.Value, 3)); err == nil || !strings.Contains(err.Error(), "row of 3 values, schema has 8 columns") {
		t.Errorf("short row: %v", err)
	}
	w, _ = New(io.Discard, testSource, Options{})
	bad := make([]schema.Value, len(testSource.Columns))
	bad[2] = schema.StringOf("not an int")
	if err := w.Write(bad); err == nil || !strings.Contains(err.Error(), "parquet t.i: value of kind") {
		t.Errorf("string in an int column: %v", err)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed Write succeeded: the file would be incomplete")
	}
}

// FuzzRoundTrip: any values, any layout, read back as written.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("seed"), uint16(100), uint8(3))
	f.Add([]byte{0, 1, 2, 255, 254}, uint16(7), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, n uint16, layout uint8) {
		r := rand.New(rand.NewPCG(uint64(len(data)), uint64(n)))
		in := make([][]schema.Value, int(n)%2000)
		for k := range in {
			v := make([]schema.Value, len(testSource.Columns))
			for c, col := range testSource.Columns {
				if len(data) > 0 && data[(k+c)%len(data)]%5 == 0 {
					continue // null
				}
				switch col.Kind {
				case schema.String:
					a := r.IntN(len(data) + 1)
					v[c] = schema.StringOf(string(data[a:min(len(data), a+r.IntN(100))]))
				case schema.Int:
					v[c] = schema.IntOf(int64(int32(r.Uint32())))
				case schema.BigInt:
					v[c] = schema.BigIntOf(int64(r.Uint64()))
				case schema.Timestamp:
					v[c] = schema.Value{Kind: schema.Timestamp, Int: int64(r.Uint64())}
				case schema.Double:
					v[c] = schema.DoubleOf(math.Float64frombits(r.Uint64()))
				case schema.Bool:
					v[c] = schema.BoolOf(r.IntN(2) == 1)
				}
			}
			in[k] = v
		}
		opt := Options{RowGroupRows: 1 + int(layout)*13, PageBytes: 64 + int(layout)*97, DictionaryBytes: 32 + int(layout)*50}
		got := read(t, write(t, in, opt))
		if len(in) == 0 && len(got) == 0 {
			return
		}
		if diff := cmp.Diff(in, got, same); diff != "" {
			t.Fatalf("read back differs (-written +read):\n%s", diff)
		}
	})
}
