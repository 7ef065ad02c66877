package eval

import (
	"context"
	"math"
	"sort"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

// Result holds averaged metrics over the judged queries.
type Result struct {
	Queries int
	NDCG10  float64
	Recall  map[int]float64 // recall@k
	MRR10   float64
}

// RecallKs are the cut-offs reported for recall.
var RecallKs = []int{10, 100}

// Searcher is what Run evaluates: an in-memory index, or the live index a
// server answers from.
type Searcher interface {
	Search(ctx context.Context, q search.Query) ([]search.Hit, error)
}

// Run searches every judged query against ix and averages the metrics. A
// document's rank is that of its best chunk.
func Run(ctx context.Context, ix Searcher, s *Set) (Result, error) {
	return RunMapped(ctx, ix, s, 100, func(c *doc.Chunk) string { return c.ID })
}

// RunMapped is Run with hits mapped to corpus ids by docOf (chunks of one
// document count once, at their best rank); depth chunks are retrieved.
func RunMapped(ctx context.Context, ix Searcher, s *Set, depth int, docOf func(*doc.Chunk) string) (Result, error) {
	res := Result{Recall: map[int]float64{}}
	ids := make([]string, 0, len(s.Qrels))
	for qid := range s.Qrels {
		if _, ok := s.Queries[qid]; ok {
			ids = append(ids, qid)
		}
	}
	sort.Strings(ids)
	for _, qid := range ids {
		hits, err := ix.Search(ctx, search.Query{Text: s.Queries[qid], TopK: depth})
		if err != nil {
			return res, err
		}
		ranked := make([]string, 0, len(hits))
		seen := map[string]bool{}
		for _, h := range hits {
			if id := docOf(h.Chunk); !seen[id] {
				seen[id] = true
				ranked = append(ranked, id)
			}
		}
		rel := s.Qrels[qid]
		res.NDCG10 += NDCG(ranked, rel, 10)
		res.MRR10 += MRR(ranked, rel, 10)
		for _, k := range RecallKs {
			res.Recall[k] += Recall(ranked, rel, k)
		}
	}
	res.Queries = len(ids)
	if n := float64(len(ids)); n > 0 {
		res.NDCG10 /= n
		res.MRR10 /= n
		for k := range res.Recall {
			res.Recall[k] /= n
		}
	}
	return res, nil
}

// NDCG is nDCG@k with graded gains (as trec_eval / BEIR compute it).
func NDCG(ranked []string, rel map[string]int, k int) float64 {
	dcg := 0.0
	for i, id := range ranked {
		if i >= k {
			break
		}
		if g := rel[id]; g > 0 {
			dcg += float64(g) / math.Log2(float64(i)+2)
		}
	}
	var gains []int
	for _, g := range rel {
		if g > 0 {
			gains = append(gains, g)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(gains)))
	idcg := 0.0
	for i, g := range gains {
		if i >= k {
			break
		}
		idcg += float64(g) / math.Log2(float64(i)+2)
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// Recall is the share of relevant documents found in the top k.
func Recall(ranked []string, rel map[string]int, k int) float64 {
	total, found := 0, 0
	for _, g := range rel {
		if g > 0 {
			total++
		}
	}
	for i, id := range ranked {
		if i >= k {
			break
		}
		if rel[id] > 0 {
			found++
		}
	}
	if total == 0 {
		return 0
	}
	return float64(found) / float64(total)
}

// MRR is the reciprocal rank of the first relevant document within k.
func MRR(ranked []string, rel map[string]int, k int) float64 {
	for i, id := range ranked {
		if i >= k {
			break
		}
		if rel[id] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}
