package search

import (
	"bytes"
	"container/heap"
	"slices"
	"sort"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

// FileMeta is what a segment keeps per source file: enough to cite it, filter
// on it and decide who may read it without touching the chunk store. All the
// chunks of a file share its ACL and sit next to each other (docs First to
// First+N-1, chunk ordinal = doc - First).
type FileMeta struct {
	Source string
	Title  string
	Public bool
	Groups []string
	First  uint32
	N      uint32
}

// Segment is an immutable inverted index over a set of files. The live index
// is a list of segments: new files arrive as small segments, deletions are
// tombstones, and merges fold segments together, so a reader never waits for
// a writer and start-up decodes segments instead of re-analysing text.
type Segment struct {
	id       uint64
	terms    []byte   // sorted terms, concatenated
	termEnd  []uint32 // end offset of term i in terms
	postEnd  []uint32 // end of term i's postings in post, in (doc, tf) pairs
	post     []uint32 // interleaved doc, tf
	docLen   []uint32 // analysed length of each doc (title weighted)
	docFile  []uint32 // file index of each doc
	files    []FileMeta
	totalLen uint64
}

// ID identifies the segment in the store (0 until the index assigns one).
func (s *Segment) ID() uint64 { return s.id }

// Docs returns the number of docs (chunks) in the segment.
func (s *Segment) Docs() int { return len(s.docLen) }

// Files returns the files of the segment (read-only).
func (s *Segment) Files() []FileMeta { return s.files }

func (s *Segment) nTerms() int { return len(s.termEnd) }

func (s *Segment) term(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = s.termEnd[i-1]
	}
	return s.terms[start:s.termEnd[i]]
}

func (s *Segment) postings(i int) []uint32 {
	start := uint32(0)
	if i > 0 {
		start = s.postEnd[i-1]
	}
	return s.post[2*start : 2*s.postEnd[i]]
}

// find returns the index of term t, or -1.
func (s *Segment) find(t string) int {
	tb := []byte(t)
	i := sort.Search(s.nTerms(), func(i int) bool { return bytes.Compare(s.term(i), tb) >= 0 })
	if i < s.nTerms() && bytes.Equal(s.term(i), tb) {
		return i
	}
	return -1
}

// FileDocs is one file's chunks, as the builder takes them.
type FileDocs struct {
	Source, Title string
	Public        bool
	Groups        []string
	Chunks        []*doc.Chunk
}

// Builder analyses files into a segment.
type Builder struct {
	an          Analyzer
	titleWeight int
	postings    map[string][]uint32
	docLen      []uint32
	docFile     []uint32
	files       []FileMeta
	totalLen    uint64
	terms       []string
	tf          map[string]uint32
}

// NewBuilder returns a builder that analyses with an. Title terms count
// titleWeight times (a BM25F-style field weight; 1 treats the title as text).
func NewBuilder(an Analyzer, titleWeight int) *Builder {
	if titleWeight < 1 {
		titleWeight = 1
	}
	return &Builder{an: an, titleWeight: titleWeight, postings: map[string][]uint32{}, tf: map[string]uint32{}}
}

// Add analyses one file's chunks.
func (b *Builder) Add(f FileDocs) {
	fm := FileMeta{Source: f.Source, Title: f.Title, Public: f.Public, Groups: f.Groups, First: uint32(len(b.docLen)), N: uint32(len(f.Chunks))}
	fileIdx := uint32(len(b.files))
	b.files = append(b.files, fm)
	for _, c := range f.Chunks {
		id := uint32(len(b.docLen))
		clear(b.tf)
		n := 0
		b.terms = b.an.Terms(b.terms[:0], c.Title)
		for _, t := range b.terms {
			b.tf[t] += uint32(b.titleWeight)
		}
		n += len(b.terms) * b.titleWeight
		b.terms = b.an.Terms(b.terms[:0], c.Heading)
		b.terms = b.an.Terms(b.terms, c.Text)
		for _, t := range b.terms {
			b.tf[t]++
		}
		n += len(b.terms)
		for t, k := range b.tf {
			b.postings[t] = append(b.postings[t], id, k)
		}
		b.docLen = append(b.docLen, uint32(n))
		b.docFile = append(b.docFile, fileIdx)
		b.totalLen += uint64(n)
	}
}

// Segment lays out what was added as an immutable segment.
func (b *Builder) Segment() *Segment {
	terms := make([]string, 0, len(b.postings))
	total := 0
	for t, p := range b.postings {
		terms = append(terms, t)
		total += len(p)
	}
	slices.Sort(terms)
	s := &Segment{
		termEnd: make([]uint32, len(terms)), postEnd: make([]uint32, len(terms)), post: make([]uint32, 0, total),
		docLen: b.docLen, docFile: b.docFile, files: b.files, totalLen: b.totalLen,
	}
	var tb bytes.Buffer
	for i, t := range terms {
		tb.WriteString(t)
		s.termEnd[i] = uint32(tb.Len())
		s.post = append(s.post, b.postings[t]...)
		s.postEnd[i] = uint32(len(s.post) / 2)
	}
	s.terms = tb.Bytes()
	return s
}

// bitset marks deleted docs of a segment.
type bitset []uint64

func (b bitset) has(i uint32) bool { return int(i>>6) < len(b) && b[i>>6]&(1<<(i&63)) != 0 }

func (b bitset) with(from, n uint32, size int) bitset {
	out := make(bitset, (size+63)/64)
	copy(out, b)
	for i := from; i < from+n; i++ {
		out[i>>6] |= 1 << (i & 63)
	}
	return out
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n
}

// merge folds segments into one, dropping deleted docs and files whose docs
// are all deleted. Postings are remapped, never re-analysed.
func merge(segs []*Segment, dead []bitset) *Segment {
	out := &Segment{}
	remap := make([][]uint32, len(segs))
	const gone = ^uint32(0)
	for si, s := range segs {
		remap[si] = make([]uint32, s.Docs())
		for fi := range s.files {
			f := s.files[fi]
			nf := FileMeta{Source: f.Source, Title: f.Title, Public: f.Public, Groups: f.Groups, First: uint32(len(out.docLen))}
			for d := f.First; d < f.First+f.N; d++ {
				if dead[si].has(d) {
					remap[si][d] = gone
					continue
				}
				remap[si][d] = uint32(len(out.docLen))
				out.docLen = append(out.docLen, s.docLen[d])
				out.docFile = append(out.docFile, uint32(len(out.files)))
				out.totalLen += uint64(s.docLen[d])
				nf.N++
			}
			if nf.N > 0 {
				out.files = append(out.files, nf)
			}
		}
	}
	// k-way merge of the sorted term lists.
	h := &cursorHeap{}
	for si, s := range segs {
		if s.nTerms() > 0 {
			h.items = append(h.items, cursor{seg: si, s: s})
		}
	}
	heap.Init(h)
	var tb bytes.Buffer
	for h.Len() > 0 {
		t := h.items[0].term()
		start := len(out.post)
		for h.Len() > 0 && bytes.Equal(h.items[0].term(), t) {
			c := &h.items[0]
			p := c.s.postings(c.i)
			for j := 0; j < len(p); j += 2 {
				if nd := remap[c.seg][p[j]]; nd != gone {
					out.post = append(out.post, nd, p[j+1])
				}
			}
			c.i++
			if c.i == c.s.nTerms() {
				heap.Pop(h)
			} else {
				heap.Fix(h, 0)
			}
		}
		if len(out.post) == start {
			continue // every doc holding the term was deleted
		}
		tb.Write(t)
		out.termEnd = append(out.termEnd, uint32(tb.Len()))
		out.postEnd = append(out.postEnd, uint32(len(out.post)/2))
	}
	out.terms = tb.Bytes()
	return out
}

type cursor struct {
	seg int
	s   *Segment
	i   int
}

func (c *cursor) term() []byte { return c.s.term(c.i) }

type cursorHeap struct{ items []cursor }

func (h *cursorHeap) Len() int { return len(h.items) }
func (h *cursorHeap) Less(i, j int) bool {
	if c := bytes.Compare(h.items[i].term(), h.items[j].term()); c != 0 {
		return c < 0
	}
	return h.items[i].seg < h.items[j].seg // keep doc order: older segments first
}
func (h *cursorHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *cursorHeap) Push(x any)    { h.items = append(h.items, x.(cursor)) }
func (h *cursorHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
