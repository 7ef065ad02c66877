package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/unsilo/unsilo/apps/rag-api/api"
	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

// previewNeighbours is how many passages either side of the cited one a
// preview shows for documents without pages.
const previewNeighbours = 2

// preview shows a cited passage in its document: the whole page for PDFs,
// the passages around it otherwise. A passage the caller may not read is
// "not found", exactly like one that does not exist.
func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Chunks == nil {
		writeError(w, http.StatusNotFound, "previews are not available with this retriever")
		return
	}
	id := r.URL.Query().Get("id")
	src, ord, ok := doc.SplitID(id)
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("id %q is not a passage id (source#n)", id))
		return
	}
	p, ok := s.identify(w, r)
	if !ok {
		return
	}
	c, err := s.cfg.Chunks.Chunk(src, ord)
	if err != nil {
		s.cfg.Log.Error("preview read failed", "err", err)
		writeError(w, http.StatusInternalServerError, "could not read the passage")
		return
	}
	if c == nil || !c.Visible(p.Groups) {
		writeError(w, http.StatusNotFound, "no such passage")
		return
	}
	all, err := s.cfg.Chunks.FileChunks(src)
	if err != nil {
		s.cfg.Log.Error("preview read failed", "err", err)
		writeError(w, http.StatusInternalServerError, "could not read the document")
		return
	}
	out := api.Preview{ID: c.ID, Title: c.Title, Source: c.Source, Page: c.Page, Heading: c.Heading, Parts: []api.PreviewPassage{}}
	for i, o := range all {
		near := i >= ord-previewNeighbours && i <= ord+previewNeighbours
		if c.Page > 0 {
			near = o.Page == c.Page
		}
		if near && o.Visible(p.Groups) {
			out.Parts = append(out.Parts, api.PreviewPassage{Heading: o.Heading, Page: o.Page, Text: o.Text, Hit: i == ord})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) feedback(w http.ResponseWriter, r *http.Request) {
	var fb api.Feedback
	if !decode(w, r, &fb) {
		return
	}
	if fb.Rating != "up" && fb.Rating != "down" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("rating must be \"up\" or \"down\", got %q", fb.Rating))
		return
	}
	for _, f := range []struct {
		name, text string
		limit      int
		required   bool
	}{
		{"question", fb.Question, s.cfg.MaxQuestion, true},
		{"answer", fb.Answer, api.MaxAnswerRunes, false},
		{"comment", fb.Comment, api.MaxCommentRunes, false},
	} {
		if err := checkText(f.name, f.text, f.limit, f.required); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	if len(fb.Sources) > api.MaxFeedbackSrcs {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("sources has %d entries, limit is %d", len(fb.Sources), api.MaxFeedbackSrcs))
		return
	}
	for i, id := range fb.Sources {
		if err := checkText(fmt.Sprintf("sources[%d]", i), id, 2048, true); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	p, ok := s.identify(w, r)
	if !ok {
		return
	}
	rec := FeedbackRecord{Feedback: fb, Subject: p.Subject, Time: time.Now().UTC()}
	if s.cfg.Feedback != nil {
		if err := s.cfg.Feedback(r.Context(), rec); err != nil {
			s.cfg.Log.Error("feedback store failed", "err", err)
			writeError(w, http.StatusInternalServerError, "could not store feedback")
			return
		}
	} else {
		s.cfg.Log.Info("feedback", "rating", fb.Rating, "question", fb.Question, "subject", p.Subject)
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "recorded"})
}
