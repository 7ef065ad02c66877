package payload

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner walks a body that json.Valid has accepted (so its syntax,
// nesting depth and UTF-8 are known good): every method may assume well-
// formed JSON and only finds where things end.
type scanner struct {
	data []byte
	off  int
}

func (s *scanner) ws() {
	for s.off < len(s.data) {
		switch s.data[s.off] {
		case ' ', '\t', '\n', '\r':
			s.off++
		default:
			return
		}
	}
}

// peek is the first byte of the next token.
func (s *scanner) peek() byte {
	s.ws()
	return s.data[s.off]
}

// next consumes one byte of punctuation (',', ':', '}', ...).
func (s *scanner) next() byte {
	s.ws()
	c := s.data[s.off]
	s.off++
	return c
}

// rawString consumes a string and returns its bytes between the quotes,
// still escaped, and whether it has escapes.
func (s *scanner) rawString() ([]byte, bool) {
	s.ws()
	start := s.off + 1
	esc := false
	for i := start; ; i++ {
		switch s.data[i] {
		case '\\':
			esc = true
			i++
		case '"':
			s.off = i + 1
			return s.data[start:i], esc
		}
	}
}

// string consumes a string and returns it unescaped.
func (s *scanner) string() string {
	raw, esc := s.rawString()
	if !esc {
		return string(raw)
	}
	return string(unescape(raw))
}

// value consumes any value and returns its bytes.
func (s *scanner) value() []byte {
	s.ws()
	start := s.off
	switch s.data[s.off] {
	case '"':
		s.rawString()
	case '{', '[':
		depth := 0
		for {
			switch s.data[s.off] {
			case '"':
				s.rawString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.off++
			if depth == 0 {
				break
			}
		}
	default: // number, true, false, null
		for s.off < len(s.data) {
			switch s.data[s.off] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.data[start:s.off]
			}
			s.off++
		}
	}
	return s.data[start:s.off]
}

// unescape decodes a JSON string's escapes exactly as encoding/json does
// (a lone or broken surrogate becomes U+FFFD).
func unescape(s []byte) []byte {
	b := make([]byte, 0, len(s))
	for r := 0; r < len(s); {
		c := s[r]
		if c != '\\' {
			b = append(b, c)
			r++
			continue
		}
		r++
		switch s[r] {
		case '"', '\\', '/', '\'':
			b = append(b, s[r])
			r++
		case 'b':
			b, r = append(b, '\b'), r+1
		case 'f':
			b, r = append(b, '\f'), r+1
		case 'n':
			b, r = append(b, '\n'), r+1
		case 'r':
			b, r = append(b, '\r'), r+1
		case 't':
			b, r = append(b, '\t'), r+1
		case 'u':
			rr := hex4(s[r+1:])
			r += 5
			if utf16.IsSurrogate(rr) {
				if r+6 <= len(s) && s[r] == '\\' && s[r+1] == 'u' {
					if dec := utf16.DecodeRune(rr, hex4(s[r+2:])); dec != unicode.ReplacementChar {
						b, r = utf8.AppendRune(b, dec), r+6
						continue
					}
				}
				rr = unicode.ReplacementChar
			}
			b = utf8.AppendRune(b, rr)
		}
	}
	return b
}

// hex4 reads the four hex digits of a \u escape (json.Valid checked them).
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r*16 + rune(c)
	}
	return r
}

// foldName is encoding/json's case-insensitive key form: the smallest
// rune of each rune's simple fold orbit, ASCII upper-cased.
func foldName(in []byte) string {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); {
		if c := in[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return string(out)
}

func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
