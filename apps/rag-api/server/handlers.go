package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/unsilo/unsilo/apps/rag-api/api"
	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

// The wire types live in package api, the contract clients import.
type (
	SearchRequest  = api.SearchRequest
	SearchResult   = api.SearchResult
	SearchResponse = api.SearchResponse
	AskRequest     = api.AskRequest
	Source         = api.Source
	AskResponse    = api.AskResponse
)

// Feedback is POST /v1/feedback's body.
type Feedback struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
	Rating   string `json:"rating"` // "up" or "down"
	Comment  string `json:"comment,omitempty"`
	Subject  string `json:"-"`
}

func (s *Server) checkText(field, text string) error {
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("%s is empty", field)
	}
	if !utf8.ValidString(text) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(text); n > s.cfg.MaxQuestion {
		return fmt.Errorf("%s is %d characters, limit is %d", field, n, s.cfg.MaxQuestion)
	}
	return nil
}

// retrieve validates and runs a search under the retrieval timeout.
func (s *Server) retrieve(ctx context.Context, text string, topK int, filters map[string]string, groups []string) ([]search.Hit, int, error) {
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
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RetrieveTimout)
	defer cancel()
	hits, err := s.cfg.Retriever.Search(ctx, search.Query{Text: text, TopK: topK, Groups: groups, Filter: filter})
	if err != nil {
		s.cfg.Log.Error("retrieval failed", "err", err)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, http.StatusGatewayTimeout, errors.New("retrieval backend timed out")
		}
		return nil, http.StatusBadGateway, fmt.Errorf("retrieval backend failed: %v", err)
	}
	return hits, 0, nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	var req SearchRequest
	if !decode(w, r, &req) {
		return
	}
	if err := s.checkText("query", req.Query); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	groups, ok := s.identity(w, r)
	if !ok {
		return
	}
	if req.TopK == 0 {
		req.TopK = 10
	}
	hits, code, err := s.retrieve(r.Context(), req.Query, req.TopK, req.Filters, groups)
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	resp := SearchResponse{Results: []SearchResult{}}
	for _, h := range hits {
		resp.Results = append(resp.Results, SearchResult{Title: h.Chunk.Title, Text: h.Chunk.Text, Source: h.Chunk.Source, Page: h.Chunk.Page, Score: h.Score})
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) ask(w http.ResponseWriter, r *http.Request) {
	var req AskRequest
	if !decode(w, r, &req) {
		return
	}
	if err := s.checkText("question", req.Question); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	groups, ok := s.identity(w, r)
	if !ok {
		return
	}
	hits, code, err := s.retrieve(r.Context(), req.Question, req.TopK, req.Filters, groups)
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	passages := make([]*doc.Chunk, len(hits))
	sources := make([]Source, len(hits))
	for i, h := range hits {
		passages[i] = h.Chunk
		c := h.Chunk
		sources[i] = Source{N: i + 1, Title: c.Title, Heading: c.Heading, Source: c.Source, Page: c.Page, Text: c.Text, Score: h.Score}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.AnswerTimeout)
	defer cancel()
	if req.Stream || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		s.askStream(ctx, w, req.Question, passages, sources)
		return
	}
	var b strings.Builder
	if err := s.cfg.Generator.Answer(ctx, req.Question, passages, func(d string) error { b.WriteString(d); return nil }); err != nil {
		code, msg := generationError(err)
		s.cfg.Log.Error("generation failed", "err", err)
		writeError(w, code, msg)
		return
	}
	writeJSON(w, http.StatusOK, AskResponse{Answer: b.String(), Sources: sources})
}

func generationError(err error) (int, string) {
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusGatewayTimeout, "answer backend timed out"
	}
	return http.StatusBadGateway, "answer backend failed: " + err.Error()
}

// askStream sends server-sent events: "sources" once, "delta" per piece of
// answer, then "done" — or "error" if generation fails midway.
func (s *Server) askStream(ctx context.Context, w http.ResponseWriter, q string, passages []*doc.Chunk, sources []Source) {
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
	if err := send("sources", sources); err != nil {
		return
	}
	err := s.cfg.Generator.Answer(ctx, q, passages, func(d string) error { return send("delta", map[string]string{"text": d}) })
	if err != nil {
		_, msg := generationError(err)
		s.cfg.Log.Error("generation failed", "err", err)
		_ = send("error", apiError{Error: msg})
		return
	}
	_ = send("done", map[string]bool{"ok": true})
}

func (s *Server) feedback(w http.ResponseWriter, r *http.Request) {
	var fb Feedback
	if !decode(w, r, &fb) {
		return
	}
	if fb.Rating != "up" && fb.Rating != "down" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("rating must be \"up\" or \"down\", got %q", fb.Rating))
		return
	}
	if err := s.checkText("question", fb.Question); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.cfg.Identity != nil {
		sub, _, err := s.cfg.Identity.Groups(r)
		if err != nil {
			writeError(w, http.StatusUnauthorized, err.Error())
			return
		}
		fb.Subject = sub
	}
	if s.cfg.Feedback != nil {
		if err := s.cfg.Feedback(r.Context(), fb); err != nil {
			s.cfg.Log.Error("feedback store failed", "err", err)
			writeError(w, http.StatusInternalServerError, "could not store feedback")
			return
		}
	} else {
		s.cfg.Log.Info("feedback", "rating", fb.Rating, "question", fb.Question)
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "recorded"})
}
