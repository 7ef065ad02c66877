package search

import (
	"strings"
	"unicode/utf8"
)

// koreanSuffixes are common particles (josa), copulas and verb endings (eomi),
// longest first so "에서는" wins over "는". The list is a light stemmer: it
// only ever removes a suffix, so a noun never loses its own syllables unless
// the remaining stem is long enough (see StripKorean).
var koreanSuffixes = sortByLen([]string{
	// particles
	"은", "는", "이", "가", "을", "를", "에", "의", "도", "만", "와", "과", "로", "께", "랑", "나",
	"에서", "에게", "한테", "으로", "까지", "부터", "보다", "처럼", "같이", "이나", "이랑", "하고",
	"에는", "에서는", "으로는", "로는", "에도", "에서도", "께서", "에게는", "이라도", "마다", "조차",
	"이란", "란", "이라는", "라는", "으로서", "로서", "으로써", "로써", "에서의", "에의", "과의", "와의",
	// copula and common endings
	"이다", "입니다", "이에요", "예요", "이었다", "였다", "인가요", "인가", "인지", "일까", "일까요",
	"하다", "한다", "합니다", "했다", "했습니다", "하는", "하고", "하여", "해서", "하면", "하려면", "해야", "해야하나요",
	"하나요", "할까요", "하세요", "해요", "하기", "할", "한", "함", "됩니다", "된다", "되는", "되다", "되어", "돼", "될",
	"습니다", "니다", "나요", "까요", "세요", "어요", "아요", "었다", "았다", "는다", "려면", "으려면", "인데", "지만",
	"되나요", "됐다", "있나요", "있습니다", "없습니다", "있는", "없는", "있다", "없다",
})

var suffixSet = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range koreanSuffixes {
		m[s] = true
	}
	return m
}()

func isKoreanSuffix(w string) bool { return suffixSet[w] }

func sortByLen(ss []string) []string {
	out := append([]string(nil), ss...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && utf8.RuneCountInString(out[j]) > utf8.RuneCountInString(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// StripKorean removes one trailing particle or ending from a Hangul word. A
// one-syllable suffix needs at least two syllables left ("나이" keeps its
// "이"), a longer one at least one.
func StripKorean(word string) string {
	n := utf8.RuneCountInString(word)
	for _, s := range koreanSuffixes {
		if !strings.HasSuffix(word, s) {
			continue
		}
		sl := utf8.RuneCountInString(s)
		min := 1
		if sl == 1 {
			min = 2
		}
		if n-sl >= min {
			return word[:len(word)-len(s)]
		}
	}
	return word
}
