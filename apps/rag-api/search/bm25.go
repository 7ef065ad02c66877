package search

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

// BM25 parameters: Lucene's k1=1.2, b=0.75 measured better on SciFact than
// Anserini's 0.9/0.4; see README.
const (
	defaultK1 = 1.2
	defaultB  = 0.75
	// DefaultTitleWeight counts title terms this many times (see README).
	DefaultTitleWeight = 2
)

// ChunkSource resolves the chunks of hits: the on-disk store in the server,
// a map in evaluation.
type ChunkSource interface {
	Chunk(source string, ordinal int) (*doc.Chunk, error)
}

// Index is a BM25 index made of immutable segments. Readers load the current
// snapshot with one atomic read and never wait; writers (serialised among
// themselves) build the next snapshot aside and publish it.
type Index struct {
	an          Analyzer
	k1, b       float64
	titleWeight int
	src         ChunkSource
	cur         atomic.Pointer[snapshot]

	mu     sync.Mutex     // serialises writers
	where  map[string]loc // source -> its live docs (writer-only)
	nextID uint64
	pool   sync.Pool
}

type loc struct {
	seg  *Segment
	file int
}

type snapshot struct {
	segs    []*Segment
	dead    []bitset
	live    int
	liveLen uint64
}

// NewIndex returns an empty index analysing with an; hits are resolved
// through src.
func NewIndex(an Analyzer, src ChunkSource) *Index {
	ix := &Index{an: an, k1: defaultK1, b: defaultB, titleWeight: DefaultTitleWeight, src: src, where: map[string]loc{}, nextID: 1}
	ix.cur.Store(&snapshot{})
	return ix
}

// Analyzer returns the index's analyzer.
func (ix *Index) Analyzer() Analyzer { return ix.an }

// SetParams overrides BM25's k1 and b.
func (ix *Index) SetParams(k1, b float64) { ix.k1, ix.b = k1, b }

// SetTitleWeight sets how many times title terms count in new segments.
func (ix *Index) SetTitleWeight(w int) { ix.titleWeight = max(w, 1) }

// TitleWeight returns the title weight new segments are built with.
func (ix *Index) TitleWeight() int { return ix.titleWeight }

// NewBuilder returns a builder configured like the index.
func (ix *Index) NewBuilder() *Builder { return NewBuilder(ix.an, ix.titleWeight) }

// Len returns the number of live chunks.
func (ix *Index) Len() int { return ix.cur.Load().live }

// Segments returns the number of segments (for metrics and tests).
func (ix *Index) Segments() int { return len(ix.cur.Load().segs) }

// Hit is one scored chunk.
type Hit struct {
	Chunk *doc.Chunk
	Score float64
}

// Query describes one search.
type Query struct {
	Text string
	TopK int
	// UserID and Groups identify the caller: only chunks they may read are returned.
	UserID string
	Groups []string
	// Filter is an optional predicate on a chunk's file (source, title filters).
	Filter func(source, title string) bool
}

type cand struct {
	seg   int
	doc   uint32
	score float64
}

type candHeap []cand

func (h candHeap) Len() int           { return len(h) }
func (h candHeap) Less(i, j int) bool { return h[i].score < h[j].score }
func (h candHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *candHeap) Push(x any)        { *h = append(*h, x.(cand)) }
func (h *candHeap) Pop() any          { old := *h; x := old[len(old)-1]; *h = old[:len(old)-1]; return x }

// Search returns the TopK best chunks the user may read, best first.
func (ix *Index) Search(ctx context.Context, q Query) ([]Hit, error) {
	return ix.search(ctx, q, ix.an.Terms(nil, q.Text), nil)
}

// search scores with term weights (nil: each occurrence counts 1).
func (ix *Index) search(ctx context.Context, q Query, terms []string, weights map[string]float64) ([]Hit, error) {
	if q.TopK <= 0 {
		q.TopK = 10
	}
	snap := ix.cur.Load()
	if snap.live == 0 {
		return nil, nil
	}
	qtf := map[string]float64{}
	for _, t := range terms {
		if weights != nil {
			qtf[t] = weights[t]
		} else {
			qtf[t]++
		}
	}
	type termPos struct {
		t   string
		w   float64
		pos []int
	}
	var tps []termPos
	n := float64(snap.live)
	for t, w := range qtf {
		tp := termPos{t: t, pos: make([]int, len(snap.segs))}
		df := 0
		for si, s := range snap.segs {
			tp.pos[si] = s.find(t)
			if tp.pos[si] >= 0 {
				df += len(s.postings(tp.pos[si])) / 2
			}
		}
		if df == 0 {
			continue
		}
		// Deleted docs still count in df until a merge drops them (as in Lucene).
		idf := math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
		tp.w = idf * w
		tps = append(tps, tp)
	}
	avg := float64(snap.liveLen) / n
	h := make(candHeap, 0, q.TopK+1)
	for si, s := range snap.segs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		acc := ix.scratch(s.Docs())
		touched := make([]uint32, 0, 256)
		for _, tp := range tps {
			if tp.pos[si] < 0 {
				continue
			}
			p := s.postings(tp.pos[si])
			for j := 0; j < len(p); j += 2 {
				d, tf := p[j], float64(p[j+1])
				norm := ix.k1 * (1 - ix.b + ix.b*float64(s.docLen[d])/avg)
				if acc[d] == 0 {
					touched = append(touched, d)
				}
				acc[d] += float32(tp.w * tf * (ix.k1 + 1) / (tf + norm))
			}
		}
		readable := map[uint32]bool{}
		for _, d := range touched {
			sc := float64(acc[d])
			acc[d] = 0
			if len(h) == q.TopK && sc <= h[0].score {
				continue
			}
			if snap.dead[si].has(d) {
				continue
			}
			fi := s.docFile[d]
			ok, seen := readable[fi]
			if !seen {
				f := &s.files[fi]
				ok = doc.Readable(f.Public, f.Groups, q.Groups) && (q.Filter == nil || q.Filter(f.Source, f.Title))
				readable[fi] = ok
			}
			if !ok {
				continue
			}
			heap.Push(&h, cand{seg: si, doc: d, score: sc})
			if len(h) > q.TopK {
				heap.Pop(&h)
			}
		}
		ix.pool.Put(&acc)
	}
	out := make([]Hit, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		c := heap.Pop(&h).(cand)
		s := snap.segs[c.seg]
		f := &s.files[s.docFile[c.doc]]
		ch, err := ix.src.Chunk(f.Source, int(c.doc-f.First))
		if err != nil {
			return nil, fmt.Errorf("resolve hit %s#%d: %w", f.Source, c.doc-f.First, err)
		}
		out[i] = Hit{Chunk: ch, Score: c.score}
	}
	// A chunk replaced between the snapshot and the read resolves to nil:
	// drop it rather than fail the query.
	return slices.DeleteFunc(out, func(h Hit) bool { return h.Chunk == nil }), nil
}

// scratch returns a zeroed accumulator of at least n floats.
func (ix *Index) scratch(n int) []float32 {
	if p, ok := ix.pool.Get().(*[]float32); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float32, n)
}
