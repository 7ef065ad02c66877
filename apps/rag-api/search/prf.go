package search

import (
	"context"
	"math"
	"sort"
)

// PRF is RM3 pseudo-relevance feedback: the best passages of a first search
// (only those the caller may read, so nothing hidden leaks into the
// ranking) lend their most telling terms to a second, expanded search.
type PRF struct {
	Docs   int     // feedback passages (default 10)
	Terms  int     // expansion terms (default 20)
	Weight float64 // weight of the original query (default 0.6)
}

func (p PRF) withDefaults() PRF {
	if p.Docs <= 0 {
		p.Docs = 10
	}
	if p.Terms <= 0 {
		p.Terms = 20
	}
	if p.Weight <= 0 || p.Weight > 1 {
		p.Weight = 0.6
	}
	return p
}

// SearchPRF searches, expands the query from the results and searches again.
func (ix *Index) SearchPRF(ctx context.Context, q Query, p PRF) ([]Hit, error) {
	p = p.withDefaults()
	orig := ix.an.Terms(nil, q.Text)
	if len(orig) == 0 {
		return nil, nil
	}
	first := q
	first.TopK = p.Docs
	fb, err := ix.search(ctx, first, orig, nil)
	if err != nil || len(fb) == 0 {
		return ix.search(ctx, q, orig, nil)
	}
	// RM1: P(t|R) ~ sum over feedback docs of P(t|D) * P(D|q), with the
	// first search's scores, softmax-normalised, standing in for P(D|q):
	// measured better than linear weights on SciFact (see README), it leans
	// on the best few passages.
	maxScore := fb[0].Score
	var z float64
	docW := make([]float64, len(fb))
	for i, h := range fb {
		docW[i] = math.Exp(h.Score - maxScore)
		z += docW[i]
	}
	rm := map[string]float64{}
	var terms []string
	for i, h := range fb {
		c := h.Chunk
		terms = ix.an.Terms(terms[:0], c.Title)
		terms = ix.an.Terms(terms, c.Heading)
		terms = ix.an.Terms(terms, c.Text)
		if len(terms) == 0 {
			continue
		}
		tf := map[string]float64{}
		for _, t := range terms {
			tf[t]++
		}
		for t, n := range tf {
			rm[t] += n / float64(len(terms)) * docW[i] / z
		}
	}
	type tw struct {
		t string
		w float64
	}
	// A term in more than a twentieth of the passages (at least 5) adds
	// noise and cost: its postings are the longest in the index. The cut
	// was measured on SciFact and the shipped set (see README).
	snap := ix.cur.Load()
	common := max(snap.live/20, 5)
	list := make([]tw, 0, len(rm))
	for t, w := range rm {
		if snap.df(t) > common {
			continue
		}
		list = append(list, tw{t, w})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].w != list[j].w {
			return list[i].w > list[j].w
		}
		return list[i].t < list[j].t
	})
	if len(list) > p.Terms {
		list = list[:p.Terms]
	}
	var sum float64
	for _, e := range list {
		sum += e.w
	}
	if sum == 0 {
		return ix.search(ctx, q, orig, nil)
	}
	// RM3: interpolate the normalised original query with the expansion.
	weights := map[string]float64{}
	for _, t := range orig {
		weights[t] += p.Weight / float64(len(orig))
	}
	for _, e := range list {
		weights[e.t] += (1 - p.Weight) * e.w / sum
	}
	expanded := make([]string, 0, len(weights))
	for t := range weights {
		expanded = append(expanded, t)
	}
	return ix.search(ctx, q, expanded, weights)
}

// df counts the docs holding t across segments (deleted ones included).
func (s *snapshot) df(t string) int {
	n := 0
	for _, seg := range s.segs {
		if i := seg.find(t); i >= 0 {
			n += len(seg.postings(i)) / 2
		}
	}
	return n
}
