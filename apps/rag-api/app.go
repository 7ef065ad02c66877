package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/kendra"

	"github.com/unsilo/unsilo/apps/rag-api/answer"
	"github.com/unsilo/unsilo/apps/rag-api/api"
	"github.com/unsilo/unsilo/apps/rag-api/identity"
	"github.com/unsilo/unsilo/apps/rag-api/index"
	"github.com/unsilo/unsilo/apps/rag-api/ingest"
	kendraret "github.com/unsilo/unsilo/apps/rag-api/kendra"
	"github.com/unsilo/unsilo/apps/rag-api/search"
	"github.com/unsilo/unsilo/apps/rag-api/server"
)

// app is a wired rag-api: the live index, the HTTP handler and the watcher
// that keeps the index in step with its sources.
type app struct {
	index   *index.Index
	handler http.Handler
	watcher *watcher
	// close releases the index (and the PDF engine); the index was written
	// by the watcher, so its error is the command's.
	close func() error
}

func generator(o serveOpts, an search.Analyzer) (answer.Generator, answer.Rewriter, error) {
	fallback := answer.Heuristic{Analyzer: an}
	switch o.generator {
	case "", "extractive":
		return answer.Extractive{Analyzer: an}, fallback, nil
	case "openai":
		if o.openaiModel == "" {
			return nil, nil, fmt.Errorf("--generator openai needs --openai-model")
		}
		g := answer.OpenAI{BaseURL: o.openaiURL, Model: o.openaiModel, APIKey: os.Getenv("OPENAI_API_KEY"),
			Client: &http.Client{Timeout: o.answerTimeout}, Fallback: fallback}
		return g, g, nil
	case "bedrock":
		if o.bedrockModel == "" {
			return nil, nil, fmt.Errorf("--generator bedrock needs --bedrock-model")
		}
		cfg, err := awsconfig.LoadDefaultConfig(context.Background())
		if err != nil {
			return nil, nil, fmt.Errorf("aws config: %w", err)
		}
		g := answer.Bedrock{Client: bedrockruntime.NewFromConfig(cfg), ModelID: o.bedrockModel,
			GuardrailID: o.guardrailID, GuardrailVersion: o.guardrailVersion, Fallback: fallback}
		return g, g, nil
	}
	return nil, nil, fmt.Errorf("unknown --generator %q (want extractive, openai or bedrock)", o.generator)
}

// build opens the index (loading its persisted segments), and wires the
// retriever, answerer, identity and server.
func build(ctx context.Context, o serveOpts) (*app, error) {
	an, err := search.NewAnalyzer(o.analyzer)
	if err != nil {
		return nil, err
	}
	if o.index == "" && o.retriever != "kendra" {
		return nil, fmt.Errorf("--index is required with the embedded retriever")
	}
	var ix *index.Index
	if o.index != "" {
		if ix, err = index.Open(o.index, an, index.Options{ReadOnly: o.readOnly, TitleWeight: o.titleWeight}); err != nil {
			return nil, err
		}
	}
	closeIndex := func() error {
		if ix == nil {
			return nil
		}
		return ix.Close()
	}
	fail := func(err error) (*app, error) { return nil, errors.Join(err, closeIndex()) }
	gen, rw, err := generator(o, an)
	if err != nil {
		return fail(err)
	}
	cfg := server.Config{Generator: gen, Rewriter: rw, AnswerTimeout: o.answerTimeout}
	if ix != nil {
		cfg.Retriever, cfg.Chunks = ix, ix
		if o.prf {
			cfg.Retriever = prfRetriever{ix}
		}
	}
	if o.oidcIssuer != "" {
		id, err := identity.New(ctx, identity.Config{Issuer: o.oidcIssuer, Audience: o.oidcAudience, GroupsClaim: o.oidcGroupsClaim, UserClaim: o.oidcUserClaim})
		if err != nil {
			return fail(err)
		}
		cfg.Identity = id
		cfg.UI.OIDC = uiLogin(o, id)
	}
	switch o.retriever {
	case "", "embedded":
	case "kendra":
		if o.kendraIndex == "" {
			return fail(fmt.Errorf("--retriever kendra needs --kendra-index-id"))
		}
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return fail(fmt.Errorf("aws config: %w", err))
		}
		cfg.Retriever = &kendraret.Retriever{Client: kendra.NewFromConfig(awsCfg), IndexID: o.kendraIndex, QueryForKorean: true}
		cfg.Chunks = nil // Kendra's passages live in Kendra
	default:
		return fail(fmt.Errorf("unknown --retriever %q (want embedded or kendra)", o.retriever))
	}
	if o.feedback != "" {
		cfg.Feedback = fileFeedback(o.feedback)
	}
	a := &app{index: ix, handler: server.New(cfg)}
	a.close = closeIndex
	if len(o.targets) > 0 && !o.readOnly {
		if ix == nil {
			return fail(fmt.Errorf("--ingest needs --index"))
		}
		in, err := o.ingestOpts.ingester(ix)
		if err != nil {
			return fail(err)
		}
		a.watcher = &watcher{in: in, targets: o.targets, log: slog.Default()}
		a.close = func() error { in.PDF.Close(); return closeIndex() }
	}
	return a, nil
}

// prfRetriever searches the embedded index with pseudo-relevance feedback.
type prfRetriever struct{ ix *index.Index }

func (p prfRetriever) Search(ctx context.Context, q search.Query) ([]search.Hit, error) {
	return p.ix.SearchPRF(ctx, q, search.PRF{})
}

func uiLogin(o serveOpts, id *identity.OIDC) *api.OIDCConfig {
	client := o.uiClientID
	if client == "" {
		client = o.oidcAudience
	}
	ep := id.Endpoints()
	return &api.OIDCConfig{Issuer: o.oidcIssuer, ClientID: client, AuthorizationEndpoint: ep.Authorization,
		TokenEndpoint: ep.Token, EndSessionEndpoint: ep.EndSession, Scopes: o.uiScopes, Token: o.uiToken}
}

// fileFeedback appends each record as a JSON line. A record counts as kept
// only once the file is closed without error (the write-back of a full disk
// or NFS shows up there), so the client hears of any record lost.
func fileFeedback(path string) func(context.Context, server.FeedbackRecord) error {
	var mu sync.Mutex
	return func(_ context.Context, fb server.FeedbackRecord) error {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		err = json.NewEncoder(f).Encode(fb)
		if cerr := f.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close %s: %w", path, cerr))
		}
		return err
	}
}

// watcher ingests its targets again and again: new, changed and removed
// documents become visible to readers as each batch commits, with no restart.
type watcher struct {
	in      *ingest.Ingester
	targets []string
	log     *slog.Logger
}

// pass ingests every target once; a failing target (not mounted yet, S3
// unreachable) is logged and retried next pass, the others go on.
func (w *watcher) pass(ctx context.Context) {
	for _, t := range w.targets {
		rep, err := ingestTarget(ctx, w.in, t)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.log.Error("ingest failed; retrying next pass", "target", t, "err", err)
			continue
		}
		logReport(w.log, rep)
	}
}

// run passes now (unless the caller just did) and then every interval.
func (w *watcher) run(ctx context.Context, every time.Duration, now bool) {
	if now {
		w.pass(ctx)
	}
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.pass(ctx)
		}
	}
}
