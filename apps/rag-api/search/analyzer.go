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
	Name         string
	KoBigram     bool // Hangul/CJK runs as overlapping character bigrams
	KoMorph      bool // Hangul words with common particles and endings stripped
	EnStem       bool // Snowball English stemming
	EnStopword   bool // drop English stopwords
	KoStripFirst bool // strip particles/endings before making bigrams
}

// Analyzers lists every variant tried; DefaultAnalyzer is the one that measured best.
var analyzerSet = map[string]Analyzer{
	"plain":               {Name: "plain", KoBigram: false, KoMorph: false},
	"bigram":              {Name: "bigram", KoBigram: true, EnStem: true, EnStopword: true},
	"morph":               {Name: "morph", KoMorph: true, EnStem: true, EnStopword: true},
	"bigram+morph":        {Name: "bigram+morph", KoBigram: true, KoMorph: true, EnStem: true, EnStopword: true},
	"bigram+morph-nostem": {Name: "bigram+morph-nostem", KoBigram: true, KoMorph: true},
	"stripped-bigram":     {Name: "stripped-bigram", KoBigram: true, KoStripFirst: true, EnStem: true, EnStopword: true},
}

// DefaultAnalyzer measured best on the shipped Korean+English eval set
// (nDCG@10 0.892 vs 0.882 plain bigrams, 0.794 suffix stripping alone, 0.700 whitespace).
const DefaultAnalyzer = "stripped-bigram"

// AnalyzerNames returns the names accepted by NewAnalyzer, in a stable order.
func AnalyzerNames() []string {
	return []string{"plain", "bigram", "morph", "bigram+morph", "bigram+morph-nostem", "stripped-bigram"}
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
	prevEnd := -1 // end of the previous Latin run, to spot "API를"
	flush := func(end int) {
		if start < 0 {
			return
		}
		word := text[start:end]
		switch {
		case !cjk:
			dst = a.latinTerms(dst, word)
			prevEnd = end
		case prevEnd == start && (a.KoMorph || a.KoStripFirst) && isKoreanSuffix(word):
			// A particle glued to a Latin word carries no meaning of its own.
		default:
			dst = a.cjkTerms(dst, word)
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
		if a.KoStripFirst {
			word = StripKorean(word)
		}
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
