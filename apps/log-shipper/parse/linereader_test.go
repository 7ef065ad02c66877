package parse

import (
	"strings"
	"testing"
	"testing/iotest"
)

// TestLineReader covers both paths of next: a line whole in the bufio
// buffer is returned in place, a line spanning buffer refills is assembled,
// and one past MaxLine is cut and flagged.
func TestLineReader(t *testing.T) {
	big := strings.Repeat("b", 300<<10) // longer than the 256 KiB buffer
	huge := strings.Repeat("h", MaxLine+10)
	type line struct {
		text    string
		tooLong bool
	}
	tests := []struct {
		name string
		in   string
		want []line
	}{
		{"empty input has no lines", "", nil},
		{"LF and CRLF are trimmed", "a\r\nb\nc\n", []line{{"a", false}, {"b", false}, {"c", false}}},
		{"last line without newline is kept", "a\nb", []line{{"a", false}, {"b", false}}},
		{"blank lines are lines", "\n\n", []line{{"", false}, {"", false}}},
		{"line spanning buffer refills is whole", "x\n" + big + "\ny\n", []line{{"x", false}, {big, false}, {"y", false}}},
		{"line past MaxLine is cut and flagged", huge + "\nz\n", []line{{huge[:MaxLine], true}, {"z", false}}},
		{"over-long last line without newline", "a\n" + huge, []line{{"a", false}, {huge[:MaxLine], true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One byte per Read as well: the fast path must not depend on how
			// the underlying reader chunks its data.
			for _, one := range []bool{false, true} {
				lr := newLineReader(strings.NewReader(tc.in))
				if one {
					lr = newLineReader(iotest.OneByteReader(strings.NewReader(tc.in)))
				}
				var got []line
				for {
					b, ok, err := lr.next()
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						break
					}
					got = append(got, line{string(b), lr.tooLong})
				}
				if len(got) != len(tc.want) {
					t.Fatalf("oneByte=%v: %d lines, want %d", one, len(got), len(tc.want))
				}
				for i := range got {
					if got[i].tooLong != tc.want[i].tooLong || len(got[i].text) != len(tc.want[i].text) || got[i].text != tc.want[i].text {
						t.Errorf("oneByte=%v line %d: len %d tooLong=%v, want len %d tooLong=%v", one, i+1, len(got[i].text), got[i].tooLong, len(tc.want[i].text), tc.want[i].tooLong)
					}
				}
				if lr.n != len(tc.want) {
					t.Errorf("oneByte=%v: numbered %d lines, want %d", one, lr.n, len(tc.want))
				}
			}
		})
	}
}
