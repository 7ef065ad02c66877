package search

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

// Change is what one write did to the index, for the caller to persist in
// the same transaction as the chunks it describes.
type Change struct {
	// Manifest lists the live segments and their tombstones (EncodeManifest).
	Manifest []byte
	// New are segments to store (MarshalBinary) under their ID.
	New []*Segment
	// Dropped are IDs of segments no longer referenced.
	Dropped []uint64
}

// Update removes every doc of the sources in remove, adds seg (may be nil or
// empty) and publishes the result once persist (may be nil) accepted it. If
// persist fails nothing changes.
func (ix *Index) Update(remove []string, seg *Segment, persist func(Change) error) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	cur := ix.cur.Load()
	next := &snapshot{segs: append([]*Segment(nil), cur.segs...), dead: append([]bitset(nil), cur.dead...), live: cur.live, liveLen: cur.liveLen}
	segIdx := map[*Segment]int{}
	for i, s := range next.segs {
		segIdx[s] = i
	}
	where := map[string]*loc{} // changes to ix.where, applied on success
	removing := map[string]bool{}
	for _, src := range remove {
		removing[src] = true
		l, ok := ix.where[src]
		if !ok {
			continue
		}
		si := segIdx[l.seg]
		f := l.seg.files[l.file]
		next.dead[si] = next.dead[si].with(f.First, f.N, l.seg.Docs())
		next.live -= int(f.N)
		for d := f.First; d < f.First+f.N; d++ {
			next.liveLen -= uint64(l.seg.docLen[d])
		}
		where[src] = nil
	}
	var ch Change
	if seg != nil && seg.Docs() > 0 {
		seg.id = ix.nextID
		next.segs = append(next.segs, seg)
		next.dead = append(next.dead, nil)
		next.live += seg.Docs()
		next.liveLen += seg.totalLen
		for fi, f := range seg.files {
			if _, ok := ix.where[f.Source]; ok && !removing[f.Source] {
				return fmt.Errorf("source %s is already indexed: remove it in the same update", f.Source)
			}
			if l := where[f.Source]; l != nil {
				return fmt.Errorf("source %s appears twice in one segment", f.Source)
			}
			where[f.Source] = &loc{seg: seg, file: fi}
		}
		ch.New = append(ch.New, seg)
	}
	next = ix.dropEmpty(next, &ch)
	ch.Manifest = encodeManifest(next, ix.nextID+1)
	if persist != nil {
		if err := persist(ch); err != nil {
			return err
		}
	}
	if seg != nil && seg.Docs() > 0 {
		ix.nextID++
	}
	for src, l := range where {
		if l == nil {
			delete(ix.where, src)
		} else {
			ix.where[src] = *l
		}
	}
	ix.cur.Store(next)
	return nil
}

// dropEmpty forgets segments whose docs are all deleted.
func (ix *Index) dropEmpty(s *snapshot, ch *Change) *snapshot {
	out := &snapshot{live: s.live, liveLen: s.liveLen}
	for i, seg := range s.segs {
		if s.dead[i].count() == seg.Docs() {
			ch.Dropped = append(ch.Dropped, seg.id)
			continue
		}
		out.segs = append(out.segs, seg)
		out.dead = append(out.dead, s.dead[i])
	}
	return out
}

// MergePolicy decides when segments are folded together.
const (
	maxSegments   = 8
	maxDeadRatio  = 0.3
	smallFraction = 0.1
)

// Compact merges small segments (and any segment with many deleted docs) when
// there are too many, so query cost stays flat as small updates accumulate.
// It reports whether it merged anything.
func (ix *Index) Compact(persist func(Change) error, force bool) (bool, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	cur := ix.cur.Load()
	pick := compactionPick(cur, force)
	if len(pick) == 0 || (len(pick) == 1 && cur.dead[pick[0]].count() == 0) {
		return false, nil
	}
	segs := make([]*Segment, len(pick))
	dead := make([]bitset, len(pick))
	picked := map[int]bool{}
	for j, i := range pick {
		segs[j], dead[j], picked[i] = cur.segs[i], cur.dead[i], true
	}
	merged := merge(segs, dead)
	merged.id = ix.nextID
	next := &snapshot{live: cur.live, liveLen: cur.liveLen}
	var ch Change
	inserted := false
	for i, s := range cur.segs {
		if picked[i] {
			ch.Dropped = append(ch.Dropped, s.id)
			if !inserted && merged.Docs() > 0 {
				// The merged segment takes the place of the first one it
				// replaces, so doc order (and tie-breaking) is kept.
				next.segs = append(next.segs, merged)
				next.dead = append(next.dead, nil)
				inserted = true
			}
			continue
		}
		next.segs = append(next.segs, s)
		next.dead = append(next.dead, cur.dead[i])
	}
	if inserted {
		ch.New = []*Segment{merged}
	}
	ch.Manifest = encodeManifest(next, ix.nextID+1)
	if persist != nil {
		if err := persist(ch); err != nil {
			return false, err
		}
	}
	ix.nextID++
	for fi, f := range merged.files {
		ix.where[f.Source] = loc{seg: merged, file: fi}
	}
	ix.cur.Store(next)
	return true, nil
}

// compactionPick chooses the segments to merge: all of them when forced;
// with too many segments the small ones (at least two, the smaller half if
// none is small); always those carrying many tombstones.
func compactionPick(cur *snapshot, force bool) []int {
	var pick []int
	deadRatio := func(i int) float64 { return float64(cur.dead[i].count()) / float64(max(cur.segs[i].Docs(), 1)) }
	for i, s := range cur.segs {
		small := len(cur.segs) > maxSegments && float64(s.Docs()) < smallFraction*float64(max(cur.live, 1))
		if force || small || deadRatio(i) > maxDeadRatio {
			pick = append(pick, i)
		}
	}
	if len(cur.segs) > maxSegments && len(pick) < 2 {
		order := make([]int, len(cur.segs))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cur.segs[a].Docs() - cur.segs[b].Docs() })
		pick = append(pick[:0], order[:len(order)/2+1]...)
		slices.Sort(pick)
	}
	return pick
}

type manifest struct {
	Version  int               `json:"version"`
	NextID   uint64            `json:"next_id"`
	Segments []manifestSegment `json:"segments"`
}

type manifestSegment struct {
	ID   uint64 `json:"id"`
	Dead string `json:"dead,omitempty"` // base64 of the little-endian bitset words
}

func encodeManifest(s *snapshot, nextID uint64) []byte {
	m := manifest{Version: 1, NextID: nextID, Segments: []manifestSegment{}}
	for i, seg := range s.segs {
		ms := manifestSegment{ID: seg.id}
		if len(s.dead[i]) > 0 {
			b := make([]byte, 8*len(s.dead[i]))
			for j, w := range s.dead[i] {
				binary.LittleEndian.PutUint64(b[8*j:], w)
			}
			ms.Dead = base64.StdEncoding.EncodeToString(b)
		}
		m.Segments = append(m.Segments, ms)
	}
	b, _ := json.Marshal(m)
	return b
}

// Load replaces the index's contents with the persisted state: the manifest
// and a way to read each segment's encoding by ID. Nothing is re-analysed.
func (ix *Index) Load(manifestBytes []byte, segment func(id uint64) ([]byte, error)) error {
	var m manifest
	if err := json.Unmarshal(manifestBytes, &m); err != nil {
		return fmt.Errorf("index manifest: %w", err)
	}
	if m.Version != 1 {
		return fmt.Errorf("index manifest version %d, want 1", m.Version)
	}
	next := &snapshot{}
	where := map[string]loc{}
	for _, ms := range m.Segments {
		b, err := segment(ms.ID)
		if err != nil {
			return fmt.Errorf("segment %d: %w", ms.ID, err)
		}
		seg, err := UnmarshalSegment(b)
		if err != nil {
			return fmt.Errorf("segment %d: %w", ms.ID, err)
		}
		seg.id = ms.ID
		var dead bitset
		if ms.Dead != "" {
			raw, err := base64.StdEncoding.DecodeString(ms.Dead)
			if err != nil || len(raw)%8 != 0 || len(raw)/8 > (seg.Docs()+63)/64 {
				return fmt.Errorf("segment %d: bad tombstones", ms.ID)
			}
			dead = make(bitset, len(raw)/8)
			for j := range dead {
				dead[j] = binary.LittleEndian.Uint64(raw[8*j:])
			}
		}
		next.segs = append(next.segs, seg)
		next.dead = append(next.dead, dead)
		for fi, f := range seg.files {
			if f.N == 0 || dead.has(f.First) {
				continue
			}
			where[f.Source] = loc{seg: seg, file: fi}
		}
		for d := 0; d < seg.Docs(); d++ {
			if !dead.has(uint32(d)) {
				next.live++
				next.liveLen += uint64(seg.docLen[d])
			}
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.where = where
	ix.nextID = max(m.NextID, 1)
	ix.cur.Store(next)
	return nil
}

// Add indexes chunks grouped by source in one update without persistence:
// the in-memory path of evaluation and tests. Chunks are resolved through
// the index's ChunkSource, so it must know them (see MemChunks).
func (ix *Index) Add(files ...FileDocs) error {
	b := ix.NewBuilder()
	var remove []string
	for _, f := range files {
		b.Add(f)
		remove = append(remove, f.Source)
	}
	return ix.Update(remove, b.Segment(), nil)
}

// MemChunks is an in-memory ChunkSource.
type MemChunks map[string][]*doc.Chunk

// Chunk implements ChunkSource.
func (m MemChunks) Chunk(source string, ordinal int) (*doc.Chunk, error) {
	cs := m[source]
	if ordinal < 0 || ordinal >= len(cs) {
		return nil, nil
	}
	return cs[ordinal], nil
}

// NewMemIndex indexes chunks in memory, grouped into files by Source (a
// chunk without a source is a file of its own, keyed by its ID). A file's
// ACL is its first chunk's. Evaluation and tests use it.
func NewMemIndex(an Analyzer, titleWeight int, chunks []*doc.Chunk) (*Index, error) {
	mem := MemChunks{}
	var order []string
	for _, c := range chunks {
		src := c.Source
		if src == "" {
			src = c.ID
		}
		if _, ok := mem[src]; !ok {
			order = append(order, src)
		}
		mem[src] = append(mem[src], c)
	}
	ix := NewIndex(an, mem)
	ix.SetTitleWeight(titleWeight)
	files := make([]FileDocs, 0, len(order))
	for _, src := range order {
		cs := mem[src]
		files = append(files, FileDocs{Source: src, Title: cs[0].Title, Public: cs[0].Public, Groups: cs[0].Groups, Chunks: cs})
	}
	return ix, ix.Add(files...)
}
