package answer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/unsilo/unsilo/apps/rag-api/api"
	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

func TestOpenAIStreaming(t *testing.T) {
	var got chatRequest
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "bad path or auth", http.StatusUnauthorized)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, piece := range []string{"15일입니다", " [1]"} {
			b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"delta": map[string]string{"content": piece}}}})
			fmt.Fprintf(w, "data: %s\n\n", b)
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer ts.Close()
	o := OpenAI{BaseURL: ts.URL + "/v1", APIKey: "k", Model: "m"}
	var b strings.Builder
	err := o.Answer(context.Background(), Question{Text: "연차?"}, []*doc.Chunk{{Title: "휴가", Text: "연차는 15일"}}, func(s string) error { b.WriteString(s); return nil })
	if err != nil || b.String() != "15일입니다 [1]" {
		t.Fatalf("%q %v", b.String(), err)
	}
	if got.Model != "m" || !got.Stream || got.Messages[0].Role != "system" || !strings.Contains(got.Messages[1].Content, `<passage id="1"`) {
		t.Errorf("request: %+v", got)
	}
}

func TestOpenAIErrors(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"message":"model overloaded"}}`, http.StatusServiceUnavailable)
	}))
	defer ts.Close()
	err := OpenAI{BaseURL: ts.URL}.Answer(context.Background(), Question{Text: "q"}, []*doc.Chunk{{Text: "x"}}, func(string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") || !strings.Contains(err.Error(), "overloaded") {
		t.Errorf("err %v", err)
	}
	var b strings.Builder
	if err := (OpenAI{BaseURL: "http://127.0.0.1:1"}).Answer(context.Background(), Question{Text: "What?"}, nil, func(s string) error { b.WriteString(s); return nil }); err != nil || !strings.Contains(b.String(), "don't know") {
		t.Errorf("no passages must not call the model: %q %v", b.String(), err)
	}
}

// parrot is the most steerable model there is: it repeats every passage of
// the prompt it got, so whatever reaches the model reaches the answer.
func parrot(t *testing.T, got *chatRequest) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := json.NewDecoder(r.Body).Decode(got); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		last := got.Messages[len(got.Messages)-1].Content
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]string{"role": "assistant", "content": last}}}})
	}))
}

func TestInjectionNeverSteersAModel(t *testing.T) {
	var got chatRequest
	ts := parrot(t, &got)
	defer ts.Close()
	o := OpenAI{BaseURL: ts.URL, Model: "parrot"}
	for _, c := range injectionCorpus(t) {
		var b strings.Builder
		if err := o.Answer(context.Background(), Question{Text: c.Question}, []*doc.Chunk{{Title: "Policy", Text: c.Passage}}, func(s string) error { b.WriteString(s); return nil }); err != nil {
			t.Fatal(err)
		}
		if c.Injected != "" && strings.Contains(strings.ToLower(b.String()), strings.ToLower(c.Injected)) {
			t.Errorf("%s: the model was given the injection: %q", c.ID, b.String())
		}
	}
}

func TestModelRewriteAndFallback(t *testing.T) {
	var got chatRequest
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&got)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]string{"content": " 해외 출장 식비 한도 \n"}}}})
	}))
	defer ok.Close()
	hist := []api.Turn{{Role: "user", Text: "국내 출장 식비 한도는?"}, {Role: "assistant", Text: "삼만 오천 원 [1]"}}
	o := OpenAI{BaseURL: ok.URL, Model: "m", Fallback: Heuristic{Analyzer: analyzer()}}
	q, err := o.Rewrite(context.Background(), "그럼 해외는?", hist)
	if err != nil || q != "해외 출장 식비 한도" {
		t.Fatalf("rewrite %q %v", q, err)
	}
	if got.Messages[0].Content != RewritePrompt || !strings.Contains(got.Messages[len(got.Messages)-1].Content, "그럼 해외는?") {
		t.Errorf("rewrite request: %+v", got.Messages)
	}
	down := OpenAI{BaseURL: "http://127.0.0.1:1", Model: "m", Fallback: Heuristic{Analyzer: analyzer()}}
	q, err = down.Rewrite(context.Background(), "그럼 해외는?", hist)
	if err != nil || q != "그럼 해외는? 국내 출장 식비 한도는?" {
		t.Fatalf("fallback %q %v", q, err)
	}
}
