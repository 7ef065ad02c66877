package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/unsilo/unsilo/apps/rag-api/answer"
	"github.com/unsilo/unsilo/apps/rag-api/api"
	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/identity"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

func checkText(field, text string, limit int, required bool) error {
	if required && strings.TrimSpace(text) == "" {
		return fmt.Errorf("%s is empty", field)
	}
	if !utf8.ValidString(text) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(text); n > limit {
		return fmt.Errorf("%s is %d characters, limit is %d", field, n, limit)
	}
	return nil
}

func checkHistory(h []api.Turn) error {
	if len(h) > api.MaxHistoryTurns {
		return fmt.Errorf("history has %d turns, limit is %d (send the most recent ones)", len(h), api.MaxHistoryTurns)
	}
	total := 0
	for i, t := range h {
		if t.Role != "user" && t.Role != "assistant" {
			return fmt.Errorf("history[%d].role is %q, want \"user\" or \"assistant\"", i, t.Role)
		}
		if err := checkText(fmt.Sprintf("history[%d].text", i), t.Text, api.MaxTurnRunes, false); err != nil {
			return err
		}
		total += utf8.RuneCountInString(t.Text)
	}
	if total > api.MaxHistoryRunes {
		return fmt.Errorf("history is %d characters, limit is %d", total, api.MaxHistoryRunes)
	}
	return nil
}

// retrieve validates and runs a search under the retrieval timeout.
func (s *Server) retrieve(ctx context.Context, text string, topK int, filters map[string]string, p identity.Principal) ([]search.Hit, int, error) {
	if topK == 0 {
		topK = s.cfg.TopK
	}
	if topK < 1 || topK > 100 {
		return nil, http.StatusBadRequest, fmt.Errorf("top_k must be between 1 and 100, got %d", topK)
	}
	filter, err := buildFilter(filters)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RetrieveTimeout)
	defer cancel()
	hits, err := s.cfg.Retriever.Search(ctx, search.Query{Text: text, TopK: topK, UserID: p.UserID, Groups: p.Groups, Filter: filter})
	if err != nil {
		// The backend's own message (ARNs, request ids, upstream bodies)
		// stays in our log.
		s.cfg.Log.Error("retrieval failed", "err", err)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, http.StatusGatewayTimeout, errors.New("retrieval backend timed out")
		}
		return nil, http.StatusBadGateway, errors.New("retrieval backend failed")
	}
	return hits, 0, nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	var req api.SearchRequest
	if !decode(w, r, &req) {
		return
	}
	if err := checkText("query", req.Query, s.cfg.MaxQuestion, true); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, ok := s.identify(w, r)
	if !ok {
		return
	}
	if req.TopK == 0 {
		req.TopK = 10
	}
	hits, code, err := s.retrieve(r.Context(), req.Query, req.TopK, req.Filters, p)
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	resp := api.SearchResponse{Results: []api.SearchResult{}}
	for _, h := range hits {
		c := h.Chunk
		resp.Results = append(resp.Results, api.SearchResult{ID: c.ID, Title: c.Title, Text: c.Text, Source: c.Source, Page: c.Page, Score: h.Score})
	}
	writeJSON(w, http.StatusOK, resp)
}

// standalone rewrites a follow-up for retrieval; on failure the question is
// searched as asked (a worse search beats no answer).
func (s *Server) standalone(ctx context.Context, q string, history []api.Turn) string {
	if s.cfg.Rewriter == nil || len(history) == 0 {
		return q
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RewriteTimeout)
	defer cancel()
	out, err := s.cfg.Rewriter.Rewrite(ctx, q, history)
	if err != nil || strings.TrimSpace(out) == "" {
		s.cfg.Log.Warn("follow-up rewrite failed, searching the question as asked", "err", err)
		return q
	}
	return out
}

func (s *Server) ask(w http.ResponseWriter, r *http.Request) {
	var req api.AskRequest
	if !decode(w, r, &req) {
		return
	}
	if err := checkText("question", req.Question, s.cfg.MaxQuestion, true); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := checkHistory(req.History); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, ok := s.identify(w, r)
	if !ok {
		return
	}
	query := s.standalone(r.Context(), req.Question, req.History)
	hits, code, err := s.retrieve(r.Context(), query, req.TopK, req.Filters, p)
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	passages := make([]*doc.Chunk, len(hits))
	sources := make([]api.Source, len(hits))
	for i, h := range hits {
		passages[i] = h.Chunk
		c := h.Chunk
		sources[i] = api.Source{N: i + 1, ID: c.ID, Title: c.Title, Heading: c.Heading, Source: c.Source, Page: c.Page, Text: c.Text, Score: h.Score}
	}
	q := answer.Question{Text: req.Question, Query: query, History: req.History}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.AnswerTimeout)
	defer cancel()
	if req.Stream || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		s.askStream(ctx, w, q, passages, sources)
		return
	}
	var b strings.Builder
	if err := s.cfg.Generator.Answer(ctx, q, passages, func(d string) error { b.WriteString(d); return nil }); err != nil {
		code, msg := generationError(err)
		s.cfg.Log.Error("generation failed", "err", err)
		writeError(w, code, msg)
		return
	}
	resp := api.AskResponse{Answer: b.String(), Sources: sources}
	if query != req.Question {
		resp.Query = query
	}
	writeJSON(w, http.StatusOK, resp)
}

// generationError maps a backend failure to what the caller is told: the
// kind of failure, never the upstream's body.
func generationError(err error) (int, string) {
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusGatewayTimeout, "answer backend timed out"
	}
	if errors.Is(err, context.Canceled) {
		return 499, "request cancelled"
	}
	return http.StatusBadGateway, "answer backend failed"
}

// askStream sends server-sent events: "query" and "sources" once, "delta" per
// piece of answer, then "done" — or "error" if generation fails midway. A
// client that goes away (the UI's stop button) cancels the generation.
func (s *Server) askStream(ctx context.Context, w http.ResponseWriter, q answer.Question, passages []*doc.Chunk, sources []api.Source) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(event string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	}
	if q.Query != q.Text {
		if err := send("query", map[string]string{"query": q.Query}); err != nil {
			return
		}
	}
	if err := send("sources", sources); err != nil {
		return
	}
	err := s.cfg.Generator.Answer(ctx, q, passages, func(d string) error { return send("delta", map[string]string{"text": d}) })
	if err != nil {
		_, msg := generationError(err)
		s.cfg.Log.Error("generation failed", "err", err)
		_ = send("error", api.Error{Error: msg})
		return
	}
	_ = send("done", map[string]bool{"ok": true})
}
