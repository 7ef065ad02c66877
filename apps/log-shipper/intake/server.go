package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/unsilo/unsilo/apps/log-shipper/delta"
	"github.com/unsilo/unsilo/apps/log-shipper/lake"
	"github.com/unsilo/unsilo/apps/log-shipper/parse"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// Config of the intake.
type Config struct {
	SpoolDir        string
	Store           lake.Store
	MaxBatchRecords int           // flush when this many records are pending
	MaxBatchBytes   int64         // ... or this many body bytes
	FlushInterval   time.Duration // ... or when the oldest pending request is this old
	MaxBodyBytes    int64
	Log             *slog.Logger
	// Account and Region are the partition of the intake's records (the
	// cluster's account and region); empty: unknown.
	Account, Region string
	// OnFlush, if set, is called after each flush attempt (tests, metrics).
	OnFlush func(FlushResult)
}

// FlushResult describes one flush.
type FlushResult struct {
	ID          string
	Segments    int
	Records     int64
	Quarantined int
	Objects     []string
	Err         error
}

// Server is the intake.
type Server struct {
	cfg    Config
	spool  *spool
	parser parse.Parser
	table  *delta.Table

	mu      sync.Mutex // guards spool appends, pending and retry
	pending []string   // acknowledged segments not yet in a batch
	retry   []manifest // batches whose commit failed: retried as they are
	records int
	bytes   int64
	oldest  time.Time

	flushMu sync.Mutex // serialises flushes
	kick    chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup
}

// New opens the spool. Call Start before serving.
func New(cfg Config) (*Server, error) {
	if cfg.MaxBatchRecords <= 0 {
		cfg.MaxBatchRecords = 50000
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = 64 << 20
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 60 * time.Second
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	sp, err := openSpool(cfg.SpoolDir)
	if err != nil {
		return nil, err
	}
	p, err := parse.New(schema.Container)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, spool: sp, parser: p, table: delta.NewTable(cfg.Store, p.Source()),
		kick: make(chan struct{}, 1), stop: make(chan struct{})}, nil
}

// Start replays the spool (re-committing interrupted batches with their
// original composition first) and starts the background flusher.
func (s *Server) Start(ctx context.Context) error {
	segs, manifests, err := s.spool.list()
	if err != nil {
		return err
	}
	inBatch := map[string]bool{}
	for _, mn := range manifests {
		m, err := s.spool.readManifest(mn)
		if err != nil {
			return err
		}
		complete := true
		for _, seg := range m.Segments {
			inBatch[seg] = true
			if _, err := os.Stat(filepath.Join(s.spool.dir, seg)); err != nil {
				complete = false
			}
		}
		if !complete { // removal had started: the batch was committed
			if err := s.spool.done(m); err != nil {
				return err
			}
			continue
		}
		s.cfg.Log.Info("replaying interrupted batch", "id", m.ID, "segments", len(m.Segments))
		if _, err := s.commit(ctx, m); err != nil {
			return fmt.Errorf("replay batch %s: %w", m.ID, err)
		}
	}
	var rest []string
	for _, seg := range segs {
		if !inBatch[seg] {
			rest = append(rest, seg)
		}
	}
	if len(rest) > 0 {
		s.cfg.Log.Info("replaying spool", "segments", len(rest))
		s.mu.Lock()
		s.pending = append(s.pending, rest...)
		s.oldest = time.Now()
		s.mu.Unlock()
		if err := s.Flush(ctx); err != nil {
			return fmt.Errorf("replay spool: %w", err)
		}
	}
	s.wg.Add(1)
	go s.flusher(ctx)
	return nil
}

// Close stops the flusher and flushes what is pending.
func (s *Server) Close(ctx context.Context) error {
	close(s.stop)
	s.wg.Wait()
	return s.Flush(ctx)
}

func (s *Server) flusher(ctx context.Context) {
	defer s.wg.Done()
	tick := time.NewTicker(max(s.cfg.FlushInterval/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-tick.C:
			s.mu.Lock()
			due := len(s.retry) > 0 || len(s.pending) > 0 && time.Since(s.oldest) >= s.cfg.FlushInterval
			s.mu.Unlock()
			if !due {
				continue
			}
		}
		if err := s.Flush(ctx); err != nil {
			s.cfg.Log.Error("flush failed; segments stay spooled", "err", err)
		}
	}
}

// Flush first retries failed batches with their original composition (so
// objects a failed attempt did put are overwritten, not duplicated), then
// writes every pending segment to the lake as one new batch. Every segment
// belongs to at most one manifest.
func (s *Server) Flush(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	retry := s.retry
	s.mu.Unlock()
	for len(retry) > 0 {
		res, err := s.commit(ctx, retry[0])
		res.Err = err
		if s.cfg.OnFlush != nil {
			s.cfg.OnFlush(res)
		}
		if err != nil {
			return err
		}
		retry = retry[1:]
		s.mu.Lock()
		s.retry = s.retry[1:]
		s.mu.Unlock()
	}
	s.mu.Lock()
	segs := s.pending
	s.pending, s.records, s.bytes = nil, 0, 0
	s.mu.Unlock()
	if len(segs) == 0 {
		return nil
	}
	id, err := s.spool.batchID(segs)
	if err == nil {
		err = s.spool.writeManifest(manifest{ID: id, Segments: segs})
	}
	if err != nil { // no manifest: the segments stay pending
		s.mu.Lock()
		s.pending = append(segs, s.pending...)
		s.oldest = time.Now()
		s.mu.Unlock()
		if s.cfg.OnFlush != nil {
			s.cfg.OnFlush(FlushResult{ID: id, Segments: len(segs), Err: err})
		}
		return err
	}
	m := manifest{ID: id, Segments: segs}
	res, err := s.commit(ctx, m)
	res.Err = err
	if err != nil {
		s.mu.Lock()
		s.retry = append(s.retry, m)
		s.mu.Unlock()
	}
	if s.cfg.OnFlush != nil {
		s.cfg.OnFlush(res)
	}
	return err
}

// commit parses the batch's segments into one lake batch, puts it and
// clears the segments from the spool.
func (s *Server) commit(ctx context.Context, m manifest) (FlushResult, error) {
	res := FlushResult{ID: m.ID, Segments: len(m.Segments)}
	// The batch id is the input: a replayed batch recommits the same
	// version (a no-op when the crash came after the commit).
	b := lake.NewBatch(s.cfg.Store, s.table, schema.Container, "intake/"+m.ID)
	b.DefaultPlace(s.cfg.Account, s.cfg.Region)
	defer b.Discard()
	for _, seg := range m.Segments {
		body, err := s.spool.read(seg)
		if err != nil {
			return res, err
		}
		if err := s.parser.Parse(ctx, bytes.NewReader(body), "spool/"+seg, b); err != nil {
			return res, fmt.Errorf("parse %s: %w", seg, err)
		}
	}
	c, err := b.Commit(ctx, "batch")
	if err != nil {
		return res, err
	}
	res.Records, res.Quarantined, res.Objects = b.Records(), len(b.Quarantined()), c.Objects
	if err := s.spool.done(m); err != nil {
		return res, err
	}
	s.cfg.Log.Info("flushed", "id", m.ID, "segments", len(m.Segments), "records", res.Records, "quarantined", res.Quarantined)
	return res, nil
}

// Handler serves POST (any path; Fluent Bit's uri, e.g. /v1/logs) and GET /healthz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("POST /", s.handlePost)
	return mux
}

type ack struct {
	Accepted    int `json:"accepted"`
	Quarantined int `json:"quarantined"`
}

func (s *Server) handlePost(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, "bad gzip body: "+err.Error(), http.StatusBadRequest)
			return
		}
		defer zr.Close()
		body = io.LimitReader(zr, s.cfg.MaxBodyBytes+1)
	}
	data, err := io.ReadAll(body)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || int64(len(data)) > s.cfg.MaxBodyBytes:
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	case len(bytes.TrimSpace(data)) == 0:
		http.Error(w, "empty body", http.StatusBadRequest)
		return
	}
	// Count what parses (bad records are kept in the spool and quarantined
	// at flush: a 4xx would only make Fluent Bit retry the same bytes).
	c := &parse.Collect{}
	if err := s.parser.Parse(r.Context(), bytes.NewReader(data), "request", c); err != nil {
		http.Error(w, "parse: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	name, err := s.spool.append(data)
	if err != nil {
		s.mu.Unlock()
		s.cfg.Log.Error("spool append failed", "err", err)
		http.Error(w, "spool unavailable", http.StatusServiceUnavailable) // Fluent Bit retries
		return
	}
	if len(s.pending) == 0 {
		s.oldest = time.Now()
	}
	s.pending = append(s.pending, name)
	s.records += len(c.Records) + len(c.Bads)
	s.bytes += int64(len(data))
	full := s.records >= s.cfg.MaxBatchRecords || s.bytes >= s.cfg.MaxBatchBytes
	s.mu.Unlock()
	if full {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	w.Header().Set("Content-Type", "application/json")
	// The body is spooled already: a client gone before reading the ack
	// resends, and the batch id keeps that from duplicating.
	if err := json.NewEncoder(w).Encode(ack{Accepted: len(c.Records), Quarantined: len(c.Bads)}); err != nil {
		s.cfg.Log.Debug("ack not delivered", "err", err)
	}
}
