package answer

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

// Extractive answers by quoting the sentences of the retrieved passages that
// share the most query terms, each cited with its passage number. It needs no
// model and never states anything that is not in a passage; sentences that
// read as instructions (guard.go) are never quoted, however well they match.
type Extractive struct {
	Analyzer  search.Analyzer
	Sentences int // sentences to quote (default 3)
}

type scored struct {
	text  string
	cite  int
	score float64
	order int
}

// Answer implements Generator.
func (e Extractive) Answer(ctx context.Context, q Question, passages []*doc.Chunk, emit func(string) error) error {
	qterms := map[string]bool{}
	for _, t := range e.Analyzer.Terms(nil, q.query()) {
		qterms[t] = true
	}
	var cands []scored
	for i, p := range passages {
		for j, s := range sentences(p.Text) {
			if IsInstruction(s) {
				continue
			}
			seen := map[string]bool{}
			hit := 0.0
			for _, t := range e.Analyzer.Terms(nil, s) {
				if qterms[t] && !seen[t] {
					seen[t] = true
					hit++
				}
			}
			if hit == 0 {
				continue
			}
			// Earlier passages are ranked better by retrieval: a small bonus keeps that order on ties.
			cands = append(cands, scored{text: s, cite: i + 1, score: hit/float64(len(qterms)) + 0.05/float64(i+1), order: i*1000 + j})
		}
	}
	// A single shared term of a long question (e.g. only "휴가") is too weak to answer from.
	minScore := 0.2
	if len(qterms) <= 2 {
		minScore = 0.0
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].score > cands[b].score })
	n := e.Sentences
	if n <= 0 {
		n = 3
	}
	var picked []scored
	for _, c := range cands {
		if len(picked) == n || c.score < minScore {
			break
		}
		picked = append(picked, c)
	}
	if len(picked) == 0 {
		return emit(DontKnow(q.Text))
	}
	sort.SliceStable(picked, func(a, b int) bool { return picked[a].order < picked[b].order })
	for i, p := range picked {
		s := p.text
		if i > 0 {
			s = " " + s
		}
		if err := emit(s + " [" + itoa(p.cite) + "]"); err != nil {
			return err
		}
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// sentences splits on sentence ends and line breaks, keeping the punctuation.
func sentences(text string) []string {
	var out []string
	var cur strings.Builder
	rs := []rune(text)
	for i, r := range rs {
		if r == '\n' {
			if s := strings.TrimSpace(cur.String()); s != "" {
				out = append(out, s)
			}
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
		// CJK full stops end a sentence with no space after them.
		cjkEnd := r == '。' || r == '！' || r == '？'
		end := r == '.' || r == '?' || r == '!'
		if cjkEnd || end && (i+1 == len(rs) || rs[i+1] == ' ' || rs[i+1] == '\n') {
			if s := strings.TrimSpace(cur.String()); s != "" {
				out = append(out, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
