package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/unsilo/unsilo/apps/rag-api/answer"
	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

func testIndex(t *testing.T) *search.Index {
	t.Helper()
	an, err := search.NewAnalyzer(search.DefaultAnalyzer)
	if err != nil {
		t.Fatal(err)
	}
	ix := search.NewIndex(an)
	ix.Add(
		&doc.Chunk{ID: "1", Source: "file:///hr/leave.md", Title: "연차 휴가 규정", Text: "정규직 직원은 매년 15일의 연차 휴가를 받는다. 사용하지 않은 연차는 이월되지 않는다."},
		&doc.Chunk{ID: "2", Source: "file:///it/vpn.pdf", Title: "VPN Guide", Page: 3, Text: "Restart the VPN client when the tunnel drops. Contact the helpdesk if it persists."},
		&doc.Chunk{ID: "3", Source: "file:///fin/budget.txt", Title: "Budget", Text: "The secret VPN budget is 10 units.", Groups: []string{"finance"}},
	)
	return ix
}

type groupHeader struct{}

func (groupHeader) Groups(r *http.Request) (string, []string, error) {
	g := r.Header.Get("X-Test-Groups")
	if g == "deny" {
		return "", nil, errors.New("invalid bearer token")
	}
	if g == "" {
		return "anon", nil, nil
	}
	return "u", strings.Split(g, ","), nil
}

func newTestServer(t *testing.T, r Retriever) *httptest.Server {
	t.Helper()
	an, _ := search.NewAnalyzer(search.DefaultAnalyzer)
	s := New(Config{Retriever: r, Generator: answer.Extractive{Analyzer: an}, Identity: groupHeader{}, MaxQuestion: 100})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

func post(t *testing.T, url, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestSearchShapeAndACL(t *testing.T) {
	ts := newTestServer(t, testIndex(t))
	var sr SearchResponse
	resp, b := post(t, ts.URL+"/v1/search", `{"query":"VPN budget","top_k":5}`)
	if resp.StatusCode != 200 || json.Unmarshal(b, &sr) != nil {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	for _, r := range sr.Results {
		if r.Title == "Budget" {
			t.Fatal("anonymous user saw a finance-only passage")
		}
	}
	if len(sr.Results) != 1 || sr.Results[0].Page != 3 || sr.Results[0].Source != "file:///it/vpn.pdf" {
		t.Fatalf("results: %+v", sr.Results)
	}
	var raw map[string][]map[string]any
	_, b = post(t, ts.URL+"/v1/search", `{"query":"VPN budget","top_k":5}`, "X-Test-Groups", "finance")
	_ = json.Unmarshal(b, &raw)
	if len(raw["results"]) != 2 || raw["results"][0]["title"] != "Budget" {
		t.Fatalf("finance user: %s", b)
	}
	for _, k := range []string{"title", "text", "source", "page", "score"} {
		if _, ok := raw["results"][0][k]; !ok {
			t.Errorf("result lacks %q: %s", k, b)
		}
	}
}

func TestBadInput(t *testing.T) {
	ts := newTestServer(t, testIndex(t))
	cases := []struct {
		path, body, hdr string
		code            int
		reason          string
	}{
		{"/v1/ask", `{"question":"  "}`, "", 400, "question is empty"},
		{"/v1/ask", `{"question":"` + strings.Repeat("가", 101) + `"}`, "", 400, "limit is 100"},
		{"/v1/ask", `{"question":"x",`, "", 400, "malformed JSON"},
		{"/v1/ask", `{"question":"x","bogus":1}`, "", 400, "unknown field"},
		{"/v1/search", `{"query":"vpn","filters":{"color":"red"}}`, "", 400, `unknown filter "color"`},
		{"/v1/search", `{"query":"vpn","top_k":1000}`, "", 400, "top_k"},
		{"/v1/search", `{"query":"vpn"}`, "deny", 401, "invalid bearer token"},
		{"/v1/feedback", `{"question":"q","rating":"meh"}`, "", 400, "rating"},
	}
	for _, c := range cases {
		resp, b := post(t, ts.URL+c.path, c.body, "X-Test-Groups", c.hdr)
		var e apiError
		if resp.StatusCode != c.code || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, c.reason) {
			t.Errorf("%s %s: %d %s, want %d with %q", c.path, c.body, resp.StatusCode, b, c.code, c.reason)
		}
	}
}

type failing struct{ err error }

func (f failing) Search(ctx context.Context, _ search.Query) ([]search.Hit, error) {
	if errors.Is(f.err, context.DeadlineExceeded) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return nil, f.err
}

func TestBackendErrors(t *testing.T) {
	ts := newTestServer(t, failing{errors.New("kendra: AccessDenied")})
	resp, b := post(t, ts.URL+"/v1/ask", `{"question":"vpn"}`)
	if resp.StatusCode != 502 || !strings.Contains(string(b), "retrieval backend failed") || strings.Contains(string(b), "goroutine") {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
	an, _ := search.NewAnalyzer(search.DefaultAnalyzer)
	s := New(Config{Retriever: failing{context.DeadlineExceeded}, Generator: answer.Extractive{Analyzer: an}, RetrieveTimout: 1})
	ts2 := httptest.NewServer(s)
	defer ts2.Close()
	resp, b = post(t, ts2.URL+"/v1/search", `{"query":"vpn"}`)
	if resp.StatusCode != 504 || !strings.Contains(string(b), "timed out") {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
}

func TestAskJSONAndStream(t *testing.T) {
	ts := newTestServer(t, testIndex(t))
	var ar AskResponse
	_, b := post(t, ts.URL+"/v1/ask", `{"question":"연차 휴가는 며칠인가요?"}`)
	if err := json.Unmarshal(b, &ar); err != nil {
		t.Fatal(err, string(b))
	}
	if !strings.Contains(ar.Answer, "15일") || !strings.Contains(ar.Answer, "[1]") || ar.Sources[0].Title != "연차 휴가 규정" {
		t.Fatalf("%+v", ar)
	}
	_, b = post(t, ts.URL+"/v1/ask", `{"question":"What is the capital of Mongolia?"}`)
	_ = json.Unmarshal(b, &ar)
	if !strings.Contains(ar.Answer, "don't know") {
		t.Fatalf("unsupported question answered: %+v", ar)
	}

	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/ask", strings.NewReader(`{"question":"VPN tunnel drops"}`))
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	var events []string
	var answerText strings.Builder
	sc := bufio.NewScanner(resp.Body)
	ev := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev = strings.TrimPrefix(line, "event: ")
			events = append(events, ev)
		case strings.HasPrefix(line, "data: ") && ev == "delta":
			var d map[string]string
			_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &d)
			answerText.WriteString(d["text"])
		}
	}
	if events[0] != "sources" || events[len(events)-1] != "done" || !strings.Contains(answerText.String(), "Restart the VPN client") {
		t.Fatalf("events %v answer %q", events, answerText.String())
	}
}

func TestFeedbackHealthMetricsUI(t *testing.T) {
	an, _ := search.NewAnalyzer(search.DefaultAnalyzer)
	var got []Feedback
	s := New(Config{Retriever: testIndex(t), Generator: answer.Extractive{Analyzer: an}, Feedback: func(_ context.Context, fb Feedback) error {
		got = append(got, fb)
		return nil
	}})
	ts := httptest.NewServer(s)
	defer ts.Close()
	resp, _ := post(t, ts.URL+"/v1/feedback", `{"question":"q","answer":"a","rating":"up"}`)
	if resp.StatusCode != 202 || len(got) != 1 || got[0].Rating != "up" {
		t.Fatalf("%d %+v", resp.StatusCode, got)
	}
	post(t, ts.URL+"/v1/search", `{"query":"vpn"}`)
	for path, want := range map[string]string{"/healthz": `"ok"`, "/metrics": `rag_api_requests_total{code="OK",route="search"} 1`, "/": `id="question"`, "/app.js": "text/event-stream"} {
		r, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d, want %q in body", path, r.StatusCode, want)
		}
	}
}
