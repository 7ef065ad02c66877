package search

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

func TestAnalyzers(t *testing.T) {
	cases := []struct {
		analyzer, text string
		want           []string
	}{
		{"plain", "The VPN 휴가를", []string{"the", "vpn", "휴가를"}},
		{"bigram", "Running the VPN 휴가를", []string{"run", "vpn", "휴가", "가를"}},
		{"morph", "휴가를 신청하려면", []string{"~휴가", "~신청"}},
		{"stripped-bigram", "휴가를 신청하려면 API를", []string{"휴가", "신청", "api"}},
		{"stripped-bigram", "나이 다중인증", []string{"나이", "다중", "중인", "인증"}},
		{"bigram+morph", "연차는", []string{"~연차", "연차", "차는"}},
	}
	for _, c := range cases {
		a, err := NewAnalyzer(c.analyzer)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Terms(nil, c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s(%q) = %q, want %q", c.analyzer, c.text, got, c.want)
		}
	}
	if _, err := NewAnalyzer("nope"); err == nil || !strings.Contains(err.Error(), "stripped-bigram") {
		t.Errorf("unknown analyzer error: %v", err)
	}
}

func TestStripKorean(t *testing.T) {
	for in, want := range map[string]string{"회사에서는": "회사", "휴가를": "휴가", "나이": "나이", "차가": "차가", "신청합니다": "신청", "보안": "보안"} {
		if got := StripKorean(in); got != want {
			t.Errorf("StripKorean(%q) = %q, want %q", in, got, want)
		}
	}
}

func ids(hs []Hit) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Chunk.ID)
	}
	return out
}

func TestSearchRanksAndFiltersByACL(t *testing.T) {
	a, _ := NewAnalyzer(DefaultAnalyzer)
	ix, err := NewMemIndex(a, DefaultTitleWeight, []*doc.Chunk{
		{ID: "a", Title: "휴가 규정", Text: "연차 휴가는 매년 15일이다.", Public: true},
		{ID: "b", Title: "주차", Text: "방문객은 주차권을 받는다.", Public: true},
		{ID: "c", Title: "임원 휴가", Text: "임원의 휴가 규정은 별도이다.", Groups: []string{"exec"}},
		{ID: "d", Title: "휴가 규정 초안", Text: "그룹도 공개 표시도 없는 휴가 규정은 아무도 읽을 수 없다."},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		reason string
		q      Query
		want   []string
	}{
		{"anonymous callers see public passages only; no groups and not public is nobody's", Query{Text: "휴가 규정을 알려줘", TopK: 10}, []string{"a"}},
		{"a member of exec also sees exec's passage", Query{Text: "휴가 규정을 알려줘", TopK: 10, Groups: []string{"exec"}}, []string{"a", "c"}},
		{"top_k is honoured: one of the two, the one with 휴가 in title and text", Query{Text: "휴가", TopK: 1, Groups: []string{"exec"}}, []string{"c"}},
		{"the file filter applies", Query{Text: "휴가", TopK: 10, Groups: []string{"exec"}, Filter: func(src, title string) bool { return strings.Contains(title, "임원") }}, []string{"c"}},
	}
	for _, c := range cases {
		hs, err := ix.Search(context.Background(), c.q)
		got := ids(hs)
		if err != nil || !reflect.DeepEqual(sortedCopy(got), sortedCopy(c.want)) {
			t.Errorf("%s: got %v (%v), want %v", c.reason, got, err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Search(ctx, Query{Text: "휴가"}); err == nil {
		t.Error("cancelled context not honoured")
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// file makes a one-file FileDocs whose chunks carry the given texts.
func file(src string, public bool, groups []string, texts ...string) FileDocs {
	f := FileDocs{Source: src, Title: src, Public: public, Groups: groups}
	for i, t := range texts {
		f.Chunks = append(f.Chunks, &doc.Chunk{ID: fmt.Sprintf("%s#%d", src, i), Source: src, Text: t, Public: public, Groups: groups})
	}
	return f
}

type store struct {
	mem      MemChunks
	segs     map[uint64][]byte
	manifest []byte
	fail     bool
}

func (s *store) persist(ch Change) error {
	if s.fail {
		return errors.New("disk full")
	}
	for _, id := range ch.Dropped {
		delete(s.segs, id)
	}
	for _, seg := range ch.New {
		b, err := seg.MarshalBinary()
		if err != nil {
			return err
		}
		s.segs[seg.ID()] = b
	}
	s.manifest = ch.Manifest
	return nil
}

func (s *store) add(ix *Index, remove []string, files ...FileDocs) error {
	b := ix.NewBuilder()
	for _, f := range files {
		s.mem[f.Source] = f.Chunks
		b.Add(f)
	}
	return ix.Update(remove, b.Segment(), s.persist)
}

// TestLiveUpdatesPersistAndReload drives the index the way the server does:
// files added, replaced and removed in small updates, merged, persisted and
// loaded back without re-analysis, with searches answering the same.
func TestLiveUpdatesPersistAndReload(t *testing.T) {
	an, _ := NewAnalyzer(DefaultAnalyzer)
	st := &store{mem: MemChunks{}, segs: map[uint64][]byte{}}
	ix := NewIndex(an, st.mem)
	search := func(ix *Index, q string, groups ...string) []string {
		t.Helper()
		hs, err := ix.Search(context.Background(), Query{Text: q, TopK: 10, Groups: groups})
		if err != nil {
			t.Fatal(err)
		}
		return sortedCopy(ids(hs))
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.add(ix, nil, file("a", true, nil, "backups run nightly", "restores are tested quarterly")))
	must(st.add(ix, nil, file("b", false, []string{"ops"}, "backups of the ops database")))
	if got := search(ix, "backups", "ops"); !reflect.DeepEqual(got, []string{"a#0", "b#0"}) {
		t.Fatalf("after two adds: %v", got)
	}
	if err := st.add(ix, nil, file("a", true, nil, "dup")); err == nil {
		t.Fatal("adding an indexed source without removing it was accepted")
	}
	// Replace a: its old text must stop matching.
	must(st.add(ix, []string{"a"}, file("a", true, nil, "snapshots are kept 35 days")))
	if got := search(ix, "backups", "ops"); !reflect.DeepEqual(got, []string{"b#0"}) {
		t.Fatalf("after replacing a: %v", got)
	}
	if got := search(ix, "snapshots"); !reflect.DeepEqual(got, []string{"a#0"}) {
		t.Fatalf("new text of a: %v", got)
	}
	// A failed persist changes nothing.
	st.fail = true
	if err := ix.Update([]string{"b"}, nil, st.persist); err == nil {
		t.Fatal("persist error swallowed")
	}
	st.fail = false
	if got := search(ix, "backups", "ops"); !reflect.DeepEqual(got, []string{"b#0"}) {
		t.Fatalf("failed update leaked: %v", got)
	}
	for i := 0; i < 12; i++ {
		must(st.add(ix, nil, file(fmt.Sprintf("n%d", i), true, nil, fmt.Sprintf("note %d about restores", i))))
	}
	before := search(ix, "restores")
	merged, err := ix.Compact(st.persist, false)
	if err != nil || !merged || ix.Segments() > maxSegments {
		t.Fatalf("compact: merged=%v err=%v segments=%d", merged, err, ix.Segments())
	}
	if got := search(ix, "restores"); !reflect.DeepEqual(got, before) {
		t.Fatalf("compaction changed results: %v vs %v", got, before)
	}
	must(ix.Update([]string{"n3"}, nil, st.persist))
	if _, err := ix.Compact(st.persist, true); err != nil {
		t.Fatal(err)
	}
	// Reload from what was persisted.
	re := NewIndex(an, st.mem)
	must(re.Load(st.manifest, func(id uint64) ([]byte, error) {
		b, ok := st.segs[id]
		if !ok {
			return nil, fmt.Errorf("missing")
		}
		return b, nil
	}))
	if re.Len() != ix.Len() || re.Len() != 1+1+11 {
		t.Fatalf("reloaded %d chunks, live index %d, want 13", re.Len(), ix.Len())
	}
	for _, q := range []string{"restores", "snapshots", "backups"} {
		if a, b := search(ix, q, "ops"), search(re, q, "ops"); !reflect.DeepEqual(a, b) {
			t.Errorf("%q: live %v, reloaded %v", q, a, b)
		}
	}
	if got := search(re, "note 3"); contains(got, "n3#0") {
		t.Errorf("deleted n3 came back after reload: %v", got)
	}
	// The reloaded index keeps accepting updates.
	must(st.add(re, []string{"b"}, file("b", false, []string{"ops"}, "replaced after reload")))
	if got := search(re, "replaced", "ops"); !reflect.DeepEqual(got, []string{"b#0"}) {
		t.Errorf("update after reload: %v", got)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestSegmentRoundTripAndCorruption(t *testing.T) {
	an, _ := NewAnalyzer(DefaultAnalyzer)
	b := NewBuilder(an, 2)
	b.Add(file("file:///x.md", false, []string{"hr", "인사팀"}, "연차 휴가는 15일", "parental leave"))
	b.Add(file("file:///y.md", true, nil, "VPN 설정"))
	seg := b.Segment()
	enc, _ := seg.MarshalBinary()
	dec, err := UnmarshalSegment(enc)
	if err != nil {
		t.Fatal(err)
	}
	enc2, _ := dec.MarshalBinary()
	if !bytes.Equal(enc, enc2) || !reflect.DeepEqual(dec.files, seg.files) {
		t.Fatal("round trip changed the segment")
	}
	for _, cut := range []int{0, 7, len(enc) / 2, len(enc) - 1} {
		if _, err := UnmarshalSegment(enc[:cut]); err == nil {
			t.Errorf("truncated at %d accepted", cut)
		}
	}
	flipped := append([]byte(nil), enc...)
	flipped[len(flipped)/2] ^= 0x40
	if _, err := UnmarshalSegment(flipped); err == nil {
		t.Error("bit flip accepted")
	}
}

// FuzzUnmarshalSegment: any bytes decode to an error or a segment that
// searches without panicking.
func FuzzUnmarshalSegment(f *testing.F) {
	an, _ := NewAnalyzer(DefaultAnalyzer)
	b := NewBuilder(an, 2)
	b.Add(file("s", true, nil, "alpha beta", "휴가 규정"))
	enc, _ := b.Segment().MarshalBinary()
	f.Add(enc)
	f.Add([]byte("RAGSEG\x00\x02"))
	f.Fuzz(func(t *testing.T, data []byte) {
		seg, err := UnmarshalSegment(data)
		if err != nil {
			return
		}
		ix := NewIndex(an, constSource{})
		if err := ix.Update(nil, seg, nil); err != nil {
			return
		}
		_, _ = ix.Search(context.Background(), Query{Text: "alpha 휴가", TopK: 3})
	})
}

type constSource struct{}

func (constSource) Chunk(src string, n int) (*doc.Chunk, error) {
	return &doc.Chunk{ID: fmt.Sprintf("%s#%d", src, n)}, nil
}

func FuzzAnalyzer(f *testing.F) {
	for _, s := range []string{"휴가를 신청하려면", "The VPN's tunnel", "S3에서 API를", "日本語のテキスト", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, n := range AnalyzerNames() {
			a, _ := NewAnalyzer(n)
			for _, term := range a.Terms(nil, s) {
				if term == "" || term == "~" {
					t.Fatalf("%s: empty term from %q", n, s)
				}
			}
		}
	})
}
