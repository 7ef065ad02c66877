package eval

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/unsilo/unsilo/apps/rag-api/search"
)

func TestMetrics(t *testing.T) {
	rel := map[string]int{"a": 2, "b": 1}
	ranked := []string{"x", "a", "y", "b"}
	// DCG = 2/log2(3) + 1/log2(5); IDCG = 2/log2(2) + 1/log2(3)
	want := (2/math.Log2(3) + 1/math.Log2(5)) / (2 + 1/math.Log2(3))
	if got := NDCG(ranked, rel, 10); math.Abs(got-want) > 1e-9 {
		t.Errorf("nDCG = %v, want %v", got, want)
	}
	if got := MRR(ranked, rel, 10); got != 0.5 {
		t.Errorf("MRR = %v", got)
	}
	if got := Recall(ranked, rel, 2); got != 0.5 {
		t.Errorf("recall@2 = %v", got)
	}
	if NDCG(nil, map[string]int{}, 10) != 0 {
		t.Error("empty qrels should score 0")
	}
}

func TestParseQrelsErrors(t *testing.T) {
	m := map[string]map[string]int{}
	if err := ParseQrels(strings.NewReader("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1 0 d2 2\n"), m); err != nil || m["q1"]["d2"] != 2 {
		t.Fatalf("%v %v", err, m)
	}
	err := ParseQrels(strings.NewReader("h\th\th\nq1\td1\tx\n"), m)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("want line number in error, got %v", err)
	}
}

// TestShippedEvalSet guards retrieval quality on the repo's own ko/en set:
// the default analyzer must stay the best and above a floor.
func TestShippedEvalSet(t *testing.T) {
	s, err := Load("../testdata/eval/corpus.jsonl", "../testdata/eval/queries.jsonl", "../testdata/eval/qrels.tsv")
	if err != nil {
		t.Fatal(err)
	}
	scores := map[string]float64{}
	for _, n := range search.AnalyzerNames() {
		a, _ := search.NewAnalyzer(n)
		ix, err := search.NewMemIndex(a, search.DefaultTitleWeight, s.Corpus)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(context.Background(), ix, s)
		if err != nil {
			t.Fatal(err)
		}
		scores[n] = r.NDCG10
	}
	best := scores[search.DefaultAnalyzer]
	for n, v := range scores {
		if v > best+1e-9 {
			t.Errorf("analyzer %s (%.3f) beats the default %s (%.3f)", n, v, search.DefaultAnalyzer, best)
		}
	}
	if best < 0.85 || scores["plain"] >= best {
		t.Errorf("scores %v", scores)
	}
}

func FuzzParseQrels(f *testing.F) {
	f.Add("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
	f.Add("q 0 d 1\n")
	f.Fuzz(func(t *testing.T, s string) {
		m := map[string]map[string]int{}
		_ = ParseQrels(strings.NewReader(s), m)
	})
}

// TestPRFOnShippedSet guards the reason feedback is on by default: on the
// bilingual set it finds the other language's version of a passage.
func TestPRFOnShippedSet(t *testing.T) {
	s, err := Load("../testdata/eval/corpus.jsonl", "../testdata/eval/queries.jsonl", "../testdata/eval/qrels.tsv")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := search.NewAnalyzer(search.DefaultAnalyzer)
	ix, err := search.NewMemIndex(a, search.DefaultTitleWeight, s.Corpus)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Run(context.Background(), ix, s)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := Run(context.Background(), prf{ix}, s)
	if err != nil {
		t.Fatal(err)
	}
	if fb.NDCG10 < 0.92 || fb.Recall[10] < 0.9 || fb.NDCG10 <= plain.NDCG10 {
		t.Errorf("PRF nDCG@10 %.3f recall@10 %.3f, without %.3f %.3f", fb.NDCG10, fb.Recall[10], plain.NDCG10, plain.Recall[10])
	}
}

type prf struct{ ix *search.Index }

func (p prf) Search(ctx context.Context, q search.Query) ([]search.Hit, error) {
	return p.ix.SearchPRF(ctx, q, search.PRF{})
}
