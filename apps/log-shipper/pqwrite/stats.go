package pqwrite

import (
	"encoding/binary"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go/format"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// maxStatBytes bounds a string min or max in the footer: longer ones are
// cut to a bound that still holds (readers skip row groups with them).
const maxStatBytes = 64

// stats are a column chunk's min and max (nulls excluded, NaN ignored as
// the format asks).
type stats struct {
	have       bool
	minS, maxS string
	minI, maxI int64
	minF, maxF float64
}

// addString takes s into the min and max; borrowed means s points into
// memory that is reused (an input line), so what is kept is a copy.
func (st *stats) addString(s string, borrowed bool) {
	switch {
	case !st.have:
		if borrowed {
			s = strings.Clone(s)
		}
		st.minS, st.maxS, st.have = s, s, true
	case s < st.minS:
		if borrowed {
			s = strings.Clone(s)
		}
		st.minS = s
	case s > st.maxS:
		if borrowed {
			s = strings.Clone(s)
		}
		st.maxS = s
	}
}

func (st *stats) addInt(n int64) {
	switch {
	case !st.have:
		st.minI, st.maxI, st.have = n, n, true
	case n < st.minI:
		st.minI = n
	case n > st.maxI:
		st.maxI = n
	}
}

func (st *stats) addDouble(f float64) {
	switch {
	case math.IsNaN(f):
	case !st.have:
		st.minF, st.maxF, st.have = f, f, true
	case f < st.minF:
		st.minF = f
	case f > st.maxF:
		st.maxF = f
	}
}

// format encodes the statistics (PLAIN values, as min_value/max_value,
// whose order is the column's TypeDefinedOrder).
func (st *stats) format(k schema.Kind, nulls int64) format.Statistics {
	out := format.Statistics{NullCount: nulls}
	if !st.have {
		return out
	}
	switch k {
	case schema.String:
		lo, hi, ok := stringBounds(st.minS, st.maxS)
		if ok {
			out.MinValue, out.MaxValue = []byte(lo), []byte(hi)
		}
	case schema.Int:
		out.MinValue = binary.LittleEndian.AppendUint32(nil, uint32(int32(st.minI)))
		out.MaxValue = binary.LittleEndian.AppendUint32(nil, uint32(int32(st.maxI)))
	case schema.BigInt, schema.Timestamp:
		out.MinValue = binary.LittleEndian.AppendUint64(nil, uint64(st.minI))
		out.MaxValue = binary.LittleEndian.AppendUint64(nil, uint64(st.maxI))
	case schema.Double:
		lo, hi := st.minF, st.maxF
		// The format: a zero min is written as -0.0, a zero max as +0.0.
		if lo == 0 {
			lo = math.Copysign(0, -1)
		}
		if hi == 0 {
			hi = 0 // +0.0, whatever the sign of the value seen
		}
		out.MinValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(lo))
		out.MaxValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(hi))
	case schema.Bool:
		out.MinValue, out.MaxValue = []byte{byte(st.minI)}, []byte{byte(st.maxI)}
	}
	return out
}

// stringBounds cuts a min and max longer than maxStatBytes to bounds that
// still hold and stay valid UTF-8: the min to a prefix (never larger), the
// max to a prefix whose last ASCII byte is incremented (larger than every
// string starting with the prefix). ok is false when no such max exists.
func stringBounds(lo, hi string) (string, string, bool) {
	if len(lo) > maxStatBytes {
		lo = runePrefix(lo, maxStatBytes)
	}
	if len(hi) <= maxStatBytes {
		return lo, hi, true
	}
	p := []byte(runePrefix(hi, maxStatBytes))
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] < utf8.RuneSelf-1 { // ASCII below DEL: +1 stays ASCII
			p[i]++
			return lo, string(p[:i+1]), true
		}
	}
	return "", "", false
}

// runePrefix is the longest prefix of s of at most n bytes that does not
// cut a UTF-8 sequence.
func runePrefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
