package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
)

func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.cfg.AdminAuth.Check(r.Header); err != nil {
			writeJSON(w, http.StatusUnauthorized, apiError{Error: err.Error()})
			return
		}
		h(w, r)
	}
}

// DeadLetter is one entry of GET /v1/admin/dead.
type DeadLetter struct {
	ID        string    `json:"id"`
	DeadAt    time.Time `json:"deadAt"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"lastError"`
	AlertName string    `json:"alertname"`
	Status    string    `json:"status"`
	GroupKey  string    `json:"groupKey"`
	Bytes     int       `json:"bytes"`
}

func (s *Server) listDead(w http.ResponseWriter, r *http.Request) {
	limit := 1000
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "limit must be a positive integer"})
			return
		}
		limit = n
	}
	msgs, err := s.cfg.Admin.DeadLetters(limit)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deadLetters": DeadLetters(msgs)})
}

// DeadLetters summarises dead letters (the admin API and the CLI).
func DeadLetters(msgs []*outbox.Message) []DeadLetter {
	out := make([]DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, DeadLetter{ID: m.ID, DeadAt: m.DeadAt, Attempts: m.Attempts, LastError: m.LastError,
			AlertName: m.Notification.AlertName, Status: m.Notification.Status, GroupKey: m.Notification.GroupKey, Bytes: len(m.Notification.Raw)})
	}
	return out
}

// ReplayRequest is POST /v1/admin/replay's body: ids, or all.
type ReplayRequest struct {
	IDs []string `json:"ids"`
	All bool     `json:"all"`
}

// ReplayResponse lists the re-queued ids.
type ReplayResponse struct {
	Replayed []string `json:"replayed"`
}

func (s *Server) replay(w http.ResponseWriter, r *http.Request) {
	var req ReplayRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields() // our own closed schema
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "malformed replay request: " + err.Error()})
		return
	}
	if req.All == (len(req.IDs) > 0) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "give either ids or all:true"})
		return
	}
	ids, err := s.cfg.Admin.Replay(r.Context(), req.IDs)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, outbox.ErrNotFound) {
			code = http.StatusNotFound
		}
		writeJSON(w, code, apiError{Error: err.Error()})
		return
	}
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Replayed.Add(float64(len(ids)))
	}
	s.cfg.OnStored()
	writeJSON(w, http.StatusOK, ReplayResponse{Replayed: append([]string{}, ids...)})
}
