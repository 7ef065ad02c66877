// Package enrich adds runbook passages from rag-api's POST /v1/search and
// a link to the lake query holding the evidence. Lookups are bounded by a
// short timeout and never fail a delivery: on any error the notification
// goes out with a note instead of passages.
//
// Lookups are cached by query (alertname + summary), and concurrent
// lookups of one query share a call, so retries and a storm of one alert
// cost one search. After rag-api fails or times out, lookups are skipped
// for a cool-down instead of each delivery waiting out the timeout: a hung
// rag-api costs one timeout per cool-down, not one per attempt.
package enrich

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	ragapi "github.com/unsilo/unsilo/apps/rag-api/api"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// Result is what enrichment adds to an outbound notification.
type Result struct {
	Runbook     []ragapi.SearchResult `json:"runbook"`
	RunbookNote string                `json:"runbookNote,omitempty"`
	EvidenceURL string                `json:"evidenceURL,omitempty"`
}

// Config wires an Enricher.
type Config struct {
	// RagURL is rag-api's base URL (e.g. http://rag-api:8080); empty
	// disables runbook lookups.
	RagURL   string
	RagToken string        // optional bearer token for rag-api
	Timeout  time.Duration // per lookup; default 500ms
	TopK     int           // default 3
	Client   *http.Client
	// LakeTemplates maps alertname to an evidence URL template; key "*" is
	// the default. Placeholders: {alertname} {groupKey} {fingerprint}
	// {startsAt} {endsAt} {status}, each query-escaped.
	LakeTemplates map[string]string
	// OnSkip observes skipped lookups (metrics); reason is short.
	OnSkip func(reason string)
	// CacheTTL keeps a search result (default 10m); CacheSize bounds the
	// cached queries (default 1024). CoolDown: after a failed lookup, skip
	// lookups this long (default 30s).
	CacheTTL  time.Duration
	CacheSize int
	CoolDown  time.Duration
	Now       func() time.Time
}

// Enricher performs lookups. Safe for concurrent use.
type Enricher struct {
	cfg   Config
	cache *cache
	calls singleflight.Group

	mu        sync.Mutex
	downUntil time.Time
	downErr   string
}

// New builds an Enricher.
func New(cfg Config) *Enricher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 500 * time.Millisecond
	}
	if cfg.TopK <= 0 {
		cfg.TopK = 3
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 10 * time.Minute
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 1024
	}
	if cfg.CoolDown <= 0 {
		cfg.CoolDown = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.RagURL = strings.TrimRight(cfg.RagURL, "/")
	return &Enricher{cfg: cfg, cache: newCache(cfg.CacheSize)}
}

// Enrich never returns an error: failures become RunbookNote.
func (e *Enricher) Enrich(ctx context.Context, n *payload.Notification) Result {
	res := Result{Runbook: []ragapi.SearchResult{}, EvidenceURL: e.EvidenceURL(n)}
	if e.cfg.RagURL == "" {
		res.RunbookNote = "runbook lookup disabled"
		return res
	}
	query := strings.TrimSpace(n.AlertName + " " + n.Summary)
	if query == "" {
		res.RunbookNote = "runbook lookup skipped: no alertname or summary"
		return res
	}
	now := e.cfg.Now()
	if hits, ok := e.cache.get(query, now); ok {
		return withHits(res, hits)
	}
	e.mu.Lock()
	downUntil, downErr := e.downUntil, e.downErr
	e.mu.Unlock()
	if now.Before(downUntil) {
		e.skip("cooldown")
		res.RunbookNote = fmt.Sprintf("runbook lookup skipped: rag-api unavailable (%s; next try in %s)", downErr, downUntil.Sub(now).Round(time.Second))
		return res
	}
	// The shared call must not die with the first caller's context, and no
	// caller waits for it past its own.
	ch := e.calls.DoChan(query, func() (any, error) { return e.search(context.WithoutCancel(ctx), query) })
	var v any
	var err error
	select {
	case r := <-ch:
		v, err = r.Val, r.Err
	case <-ctx.Done():
		e.skip("cancelled")
		res.RunbookNote = "runbook lookup skipped: " + ctx.Err().Error()
		return res
	}
	if err != nil {
		reason := "error"
		if errorsIsTimeout(err) {
			reason = "timeout"
		}
		e.skip(reason)
		e.mu.Lock()
		e.downUntil, e.downErr = now.Add(e.cfg.CoolDown), err.Error()
		e.mu.Unlock()
		res.RunbookNote = "runbook lookup skipped: rag-api unavailable (" + err.Error() + ")"
		return res
	}
	hits := v.([]ragapi.SearchResult)
	e.cache.put(query, hits, now.Add(e.cfg.CacheTTL))
	return withHits(res, hits)
}

func (e *Enricher) skip(reason string) {
	if e.cfg.OnSkip != nil {
		e.cfg.OnSkip(reason)
	}
}

func withHits(res Result, hits []ragapi.SearchResult) Result {
	res.Runbook = hits
	if len(hits) == 0 {
		res.RunbookNote = "no runbook passage matched"
	}
	return res
}

func errorsIsTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

func (e *Enricher) search(ctx context.Context, query string) ([]ragapi.SearchResult, error) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	body, err := json.Marshal(ragapi.SearchRequest{Query: query, TopK: e.cfg.TopK})
	if err != nil {
		return nil, fmt.Errorf("encode search request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.RagURL+"/v1/search", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build search request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if e.cfg.RagToken != "" {
		req.Header.Set("Authorization", "Bearer "+e.cfg.RagToken)
	}
	resp, err := e.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read search response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("search: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(raw[:min(len(raw), 200)]))
	}
	var sr ragapi.SearchResponse
	if err := json.Unmarshal(raw, &sr); err != nil {
		return nil, fmt.Errorf("decode search response: %w", err)
	}
	if len(sr.Results) > e.cfg.TopK {
		sr.Results = sr.Results[:e.cfg.TopK]
	}
	if sr.Results == nil {
		sr.Results = []ragapi.SearchResult{}
	}
	return sr.Results, nil
}

// EvidenceURL renders the lake query link for n, "" when no template applies.
func (e *Enricher) EvidenceURL(n *payload.Notification) string {
	tmpl, ok := e.cfg.LakeTemplates[n.AlertName]
	if !ok {
		tmpl = e.cfg.LakeTemplates["*"]
	}
	if tmpl == "" {
		return ""
	}
	ts := func(t time.Time) string {
		if t.IsZero() || t.Year() <= 1 {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	r := strings.NewReplacer(
		"{alertname}", url.QueryEscape(n.AlertName),
		"{groupKey}", url.QueryEscape(n.GroupKey),
		"{fingerprint}", url.QueryEscape(n.First.Fingerprint),
		"{startsAt}", url.QueryEscape(ts(n.First.StartsAt)),
		"{endsAt}", url.QueryEscape(ts(n.First.EndsAt)),
		"{status}", url.QueryEscape(n.Status),
	)
	return r.Replace(tmpl)
}
