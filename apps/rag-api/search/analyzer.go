// Package search is the embedded retrieval backend: a BM25 index with
// Korean- and English-aware analysis and ACL filtering.
package search

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// Analyzer turns text into index terms. The variants exist because the choice
// was measured (see README): Korean by character bigrams, by particle/ending
// stripping, or both; English plain or stemmed with stopwords removed.
type Analyzer struct {
	Name       string
	KoBigram   bool // Hangul/CJK runs as overlapping character bigrams
	KoMorph    bool // Hangul words with common particles and endings stripped
	EnStem     bool // Snowball English stemming
	EnStopword bool // drop English stopwords
}

// Analyzers lists every variant tried; DefaultAnalyzer is the one that measured best.
var analyzerSet = map[string]Analyzer{
	"plain":               {Name: "plain", KoBigram: false, KoMorph: false},
	"bigram":              {Name: "bigram", KoBigram: true, EnStem: true, EnStopword: true},
	"morph":               {Name: "morph", KoMorph: true, EnStem: true, EnStopword: true},
	"bigram+morph":        {Name: "bigram+morph", KoBigram: true, KoMorph: true, EnStem: true, EnStopword: true},
	"bigram+morph-nostem": {Name: "bigram+morph-nostem", KoBigram: true, KoMorph: true},
}

// DefaultAnalyzer is the analyzer the embedded index uses unless configured.
const DefaultAnalyzer = "bigram+morph"

// AnalyzerNames returns the names accepted by NewAnalyzer, in a stable order.
func AnalyzerNames() []string {
	return []string{"plain", "bigram", "morph", "bigram+morph", "bigram+morph-nostem"}
}

// NewAnalyzer returns the named analyzer.
func NewAnalyzer(name string) (Analyzer, error) {
	a, ok := analyzerSet[name]
	if !ok {
		return Analyzer{}, fmt.Errorf("unknown analyzer %q (want one of %s)", name, strings.Join(AnalyzerNames(), ", "))
	}
	return a, nil
}

func isHangul(r rune) bool { return unicode.Is(unicode.Hangul, r) }

func isCJK(r rune) bool {
	return isHangul(r) || unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

// Terms appends the terms of text to dst and returns it.
func (a Analyzer) Terms(dst []string, text string) []string {
	start := -1
	cjk := false
	flush := func(end int) {
		if start < 0 {
			return
		}
		word := text[start:end]
		if cjk {
			dst = a.cjkTerms(dst, word)
		} else {
			dst = a.latinTerms(dst, word)
		}
		start = -1
	}
	for i, r := range text {
		isWord := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		if !isWord {
			flush(i)
			continue
		}
		c := isCJK(r)
		if start >= 0 && c != cjk {
			// Script change inside a word ("API를", "S3에"): split so each side is analysed properly.
			flush(i)
		}
		if start < 0 {
			start, cjk = i, c
		}
	}
	flush(len(text))
	return dst
}

func (a Analyzer) latinTerms(dst []string, word string) []string {
	w := strings.ToLower(word)
	if a.EnStopword && english.IsStopWord(w) {
		return dst
	}
	if a.EnStem && utf8.RuneCountInString(w) > 2 {
		w = english.Stem(w, false)
	}
	return append(dst, w)
}

func (a Analyzer) cjkTerms(dst []string, word string) []string {
	if !a.KoBigram && !a.KoMorph {
		return append(dst, word)
	}
	if a.KoMorph {
		dst = append(dst, "~"+StripKorean(word))
	}
	if a.KoBigram {
		rs := []rune(word)
		if len(rs) == 1 {
			return append(dst, word)
		}
		for i := 0; i+1 < len(rs); i++ {
			dst = append(dst, string(rs[i:i+2]))
		}
	}
	return dst
}
