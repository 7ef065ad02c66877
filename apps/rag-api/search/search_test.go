package search

import (
	"context"
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

func TestSearchRanksAndFiltersByACL(t *testing.T) {
	a, _ := NewAnalyzer(DefaultAnalyzer)
	ix := NewIndex(a)
	ix.Add(
		&doc.Chunk{ID: "a", Title: "휴가 규정", Text: "연차 휴가는 매년 15일이다."},
		&doc.Chunk{ID: "b", Title: "주차", Text: "방문객은 주차권을 받는다."},
		&doc.Chunk{ID: "c", Title: "임원 휴가", Text: "임원의 휴가 규정은 별도이다.", Groups: []string{"exec"}},
	)
	ids := func(hs []Hit) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.Chunk.ID)
		}
		return out
	}
	hs, err := ix.Search(context.Background(), Query{Text: "휴가 규정을 알려줘", TopK: 10})
	if err != nil || !reflect.DeepEqual(ids(hs), []string{"a"}) {
		t.Fatalf("anonymous: %v %v", ids(hs), err)
	}
	hs, _ = ix.Search(context.Background(), Query{Text: "휴가 규정을 알려줘", TopK: 10, Groups: []string{"exec"}})
	if len(hs) != 2 {
		t.Fatalf("exec: %v", ids(hs))
	}
	hs, _ = ix.Search(context.Background(), Query{Text: "휴가", TopK: 1, Groups: []string{"exec"}})
	if len(hs) != 1 {
		t.Fatalf("top_k not honoured: %v", ids(hs))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Search(ctx, Query{Text: "휴가"}); err == nil {
		t.Error("cancelled context not honoured")
	}
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
