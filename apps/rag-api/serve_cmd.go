package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/net/netutil"

	"github.com/unsilo/unsilo/apps/rag-api/ingest"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

type serveOpts struct {
	addr, index, analyzer, feedback string
	titleWeight                     int
	prf                             bool
	targets                         []string
	watch                           time.Duration
	ingestOpts                      ingestOpts
	generator                       string
	openaiURL, openaiModel          string
	answerTimeout                   time.Duration
	readOnly                        bool
	bedrockModel, guardrailID       string
	guardrailVersion                string
	retriever, kendraIndex          string
	oidcIssuer, oidcAudience        string
	oidcGroupsClaim, oidcUserClaim  string
	uiClientID, uiScopes, uiToken   string
	readTimeout                     time.Duration
	maxConns                        int
}

func serveCmd() *cobra.Command {
	var o serveOpts
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve /v1/ask, /v1/search, /v1/preview, /v1/feedback, /healthz, /metrics and the web UI, ingesting --ingest targets continuously",
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			app, err := build(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, app.close()) }()
			if len(o.targets) > 0 {
				// An empty index (first start, fresh volume) is filled before
				// the server listens, so it never serves an empty index as if
				// it were complete; a persisted one serves at once.
				empty := app.index != nil && app.index.Len() == 0
				if empty {
					app.watcher.pass(cmd.Context())
				}
				go app.watcher.run(cmd.Context(), o.watch, !empty)
			}
			ln, err := net.Listen("tcp", o.addr)
			if err != nil {
				return err
			}
			if o.maxConns > 0 {
				ln = netutil.LimitListener(ln, o.maxConns)
			}
			srv := httpServer(o, app.handler)
			fmt.Fprintf(cmd.OutOrStdout(), "rag-api listening on http://%s/\n", ln.Addr())
			go func() {
				<-cmd.Context().Done()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
			}()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address")
	f.StringVar(&o.index, "index", "rag-index.db", "index database file (persisted: a restart loads it instead of re-ingesting)")
	f.StringSliceVar(&o.targets, "ingest", nil, "folders, files or s3://bucket/prefix to ingest, then keep in step (see --watch)")
	f.DurationVar(&o.watch, "watch", time.Minute, "how often --ingest targets are checked for changes (0: only at start)")
	f.StringVar(&o.analyzer, "analyzer", search.DefaultAnalyzer, "text analyzer of the embedded index")
	f.IntVar(&o.titleWeight, "title-weight", search.DefaultTitleWeight, "how many times title terms count in the embedded index")
	f.BoolVar(&o.prf, "prf", true, "expand queries with pseudo-relevance feedback (RM3) in the embedded index: finds the other language's version of bilingual documents (see README)")
	f.StringVar(&o.feedback, "feedback-file", "", "append feedback as JSON lines to this file (default: log it)")
	f.DurationVar(&o.readTimeout, "read-timeout", 30*time.Second, "time allowed to read a whole request")
	f.IntVar(&o.maxConns, "max-conns", 1024, "maximum simultaneous connections (0: unlimited)")
	addIngestFlags(cmd, &o.ingestOpts)
	addGeneratorFlags(cmd, &o)
	f.StringVar(&o.retriever, "retriever", "embedded", "retrieval backend: embedded (local BM25 index) or kendra")
	f.StringVar(&o.kendraIndex, "kendra-index-id", "", "Kendra index id (--retriever kendra)")
	addIdentityFlags(cmd, &o)
	return cmd
}

// httpServer bounds what one connection may hold: a request must arrive
// within --read-timeout (slow-body connections are cut, not kept), headers
// within 10 s. Streamed answers are bounded by --answer-timeout instead of a
// write timeout.
func httpServer(o serveOpts, h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: o.readTimeout,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}

func addGeneratorFlags(cmd *cobra.Command, o *serveOpts) {
	f := cmd.Flags()
	f.StringVar(&o.generator, "generator", "extractive", "answer backend: extractive (no model), bedrock, or openai (any OpenAI-compatible endpoint; key from OPENAI_API_KEY)")
	f.StringVar(&o.openaiURL, "openai-base-url", "http://127.0.0.1:11434/v1", "OpenAI-compatible base URL")
	f.StringVar(&o.openaiModel, "openai-model", "", "model name for the OpenAI-compatible endpoint")
	f.DurationVar(&o.answerTimeout, "answer-timeout", 60*time.Second, "timeout of one answer generation")
	f.StringVar(&o.bedrockModel, "bedrock-model", "", "Bedrock model id or inference profile id/ARN (--generator bedrock; region and credentials from the AWS default chain)")
	f.StringVar(&o.guardrailID, "bedrock-guardrail-id", "", "Bedrock guardrail id, sent on every Converse call")
	f.StringVar(&o.guardrailVersion, "bedrock-guardrail-version", "DRAFT", "Bedrock guardrail version")
}

func addIdentityFlags(cmd *cobra.Command, o *serveOpts) {
	f := cmd.Flags()
	f.StringVar(&o.oidcIssuer, "oidc-issuer", "", "OIDC issuer URL; when set every API call needs a bearer token and groups come from it")
	f.StringVar(&o.oidcAudience, "oidc-audience", "", "client id tokens must be issued to (aud, or client_id for Cognito access tokens); required with --oidc-issuer")
	f.StringVar(&o.oidcGroupsClaim, "oidc-groups-claim", "groups", "token claim holding the user's groups (Cognito: cognito:groups)")
	f.StringVar(&o.oidcUserClaim, "oidc-user-claim", "email", "token claim naming the user to Kendra (per-user ACLs of Drive and Gmail are email addresses)")
	f.StringVar(&o.uiClientID, "oidc-ui-client-id", "", "public client the web UI logs in with (authorization code + PKCE; default: --oidc-audience)")
	f.StringVar(&o.uiScopes, "oidc-ui-scopes", "openid profile email", "scopes the web UI asks for")
	f.StringVar(&o.uiToken, "oidc-ui-token", "access_token", "token the web UI sends: access_token or id_token")
}

// logReport logs one ingest pass: a summary, and each file not indexed.
func logReport(log *slog.Logger, rep ingest.Report) {
	level := slog.LevelInfo
	if !rep.Changed() && len(rep.Skipped) == 0 {
		level = slog.LevelDebug
	}
	log.Log(context.Background(), level, "ingested", "target", rep.Target, "files", rep.Files, "added", rep.Added, "updated", rep.Updated,
		"unchanged", rep.Unchanged, "removed", rep.Removed, "skipped", len(rep.Skipped), "chunks", rep.Chunks, "took", rep.Duration.Round(time.Millisecond))
	for _, s := range rep.Skipped {
		if !s.Remembered {
			log.Warn("not indexed", "source", s.Source, "reason", s.Reason)
		}
	}
}
