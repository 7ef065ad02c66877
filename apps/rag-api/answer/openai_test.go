package answer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
	err := o.Answer(context.Background(), "연차?", []*doc.Chunk{{Title: "휴가", Text: "연차는 15일"}}, func(s string) error { b.WriteString(s); return nil })
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
	err := OpenAI{BaseURL: ts.URL}.Answer(context.Background(), "q", []*doc.Chunk{{Text: "x"}}, func(string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") || !strings.Contains(err.Error(), "overloaded") {
		t.Errorf("err %v", err)
	}
	var b strings.Builder
	if err := (OpenAI{BaseURL: "http://127.0.0.1:1"}).Answer(context.Background(), "What?", nil, func(s string) error { b.WriteString(s); return nil }); err != nil || !strings.Contains(b.String(), "don't know") {
		t.Errorf("no passages must not call the model: %q %v", b.String(), err)
	}
}
