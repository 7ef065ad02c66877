// Package lang tells Korean text from other text, so that answers, refusals
// and retrieval strategies follow the asker's language.
package lang

import "unicode"

// IsKorean reports whether s is mostly Hangul: at least one Hangul letter and
// no fewer than a third as many as other letters ("VPN 설정 방법" is Korean).
func IsKorean(s string) bool {
	h, l := 0, 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Hangul, r):
			h++
		case unicode.IsLetter(r):
			l++
		}
	}
	return h > 0 && h >= l/3
}
