package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/kendra"
	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/rag-api/answer"
	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/identity"
	"github.com/unsilo/unsilo/apps/rag-api/ingest"
	kendraret "github.com/unsilo/unsilo/apps/rag-api/kendra"
	"github.com/unsilo/unsilo/apps/rag-api/search"
	"github.com/unsilo/unsilo/apps/rag-api/server"
	"github.com/unsilo/unsilo/apps/rag-api/store"
)

type serveOpts struct {
	addr, index, analyzer, feedback string
	dirs                            []string
	generator                       string
	openaiURL, openaiModel          string
	answerTimeout                   time.Duration
	readOnly                        bool
	bedrockModel, guardrailID       string
	guardrailVersion                string
	retriever, kendraIndex          string
	oidcIssuer, oidcAudience        string
	oidcGroupsClaim                 string
}

func serveCmd() *cobra.Command {
	var o serveOpts
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve /v1/ask, /v1/search, /v1/feedback, /healthz, /metrics and the web UI",
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, cleanup, err := buildHandler(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer cleanup()
			ln, err := net.Listen("tcp", o.addr)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
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
	f.StringVar(&o.index, "index", "rag-index.db", "index database file")
	f.StringSliceVar(&o.dirs, "ingest", nil, "folders or s3://bucket/prefix to ingest (incrementally) before serving")
	f.StringVar(&o.analyzer, "analyzer", search.DefaultAnalyzer, "text analyzer of the embedded index")
	f.StringVar(&o.feedback, "feedback-file", "", "append feedback as JSON lines to this file (default: log it)")
	addGeneratorFlags(cmd, &o)
	f.StringVar(&o.retriever, "retriever", "embedded", "retrieval backend: embedded (local BM25 index) or kendra")
	f.StringVar(&o.kendraIndex, "kendra-index-id", "", "Kendra index id (--retriever kendra)")
	addIdentityFlags(cmd, &o)
	return cmd
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
	f.StringVar(&o.oidcAudience, "oidc-audience", "", "expected token audience (client id)")
	f.StringVar(&o.oidcGroupsClaim, "oidc-groups-claim", "groups", "token claim holding the user's groups (Cognito: cognito:groups)")
}

func generator(o serveOpts, an search.Analyzer) (answer.Generator, error) {
	switch o.generator {
	case "", "extractive":
		return answer.Extractive{Analyzer: an}, nil
	case "openai":
		if o.openaiModel == "" {
			return nil, fmt.Errorf("--generator openai needs --openai-model")
		}
		return answer.OpenAI{BaseURL: o.openaiURL, Model: o.openaiModel, APIKey: os.Getenv("OPENAI_API_KEY"),
			Client: &http.Client{Timeout: o.answerTimeout}}, nil
	case "bedrock":
		if o.bedrockModel == "" {
			return nil, fmt.Errorf("--generator bedrock needs --bedrock-model")
		}
		cfg, err := awsconfig.LoadDefaultConfig(context.Background())
		if err != nil {
			return nil, fmt.Errorf("aws config: %w", err)
		}
		return answer.Bedrock{Client: bedrockruntime.NewFromConfig(cfg), ModelID: o.bedrockModel,
			GuardrailID: o.guardrailID, GuardrailVersion: o.guardrailVersion}, nil
	}
	return nil, fmt.Errorf("unknown --generator %q (want extractive, openai or bedrock)", o.generator)
}

// buildHandler opens the store, ingests, loads the index and wires the server.
func buildHandler(ctx context.Context, o serveOpts) (http.Handler, func(), error) {
	an, err := search.NewAnalyzer(o.analyzer)
	if err != nil {
		return nil, nil, err
	}
	open := store.Open
	if o.readOnly {
		open = store.OpenReadOnly
	}
	st, err := open(o.index)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range o.dirs {
		rep, err := ingestOne(ctx, &ingest.Ingester{Store: st}, d)
		if err != nil {
			st.Close()
			return nil, nil, fmt.Errorf("ingest %s: %w", d, err)
		}
		slog.Info("ingested", "dir", d, "added", rep.Added, "updated", rep.Updated, "unchanged", rep.Unchanged,
			"removed", rep.Removed, "skipped", len(rep.Skipped), "chunks", rep.Chunks)
		for _, s := range rep.Skipped {
			slog.Warn("skipped file", "source", s.Source, "reason", s.Reason)
		}
	}
	ix := search.NewIndex(an)
	var batch []*doc.Chunk
	if err := st.Chunks(func(c *doc.Chunk) error { batch = append(batch, c); return nil }); err != nil {
		st.Close()
		return nil, nil, err
	}
	ix.Add(batch...)
	slog.Info("index loaded", "chunks", ix.Len(), "analyzer", an.Name)
	gen, err := generator(o, an)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	cfg := server.Config{Retriever: ix, Generator: gen, AnswerTimeout: o.answerTimeout}
	if o.oidcIssuer != "" {
		id, err := identity.New(ctx, o.oidcIssuer, o.oidcAudience, o.oidcGroupsClaim)
		if err != nil {
			st.Close()
			return nil, nil, err
		}
		cfg.Identity = id
	}
	switch o.retriever {
	case "", "embedded":
	case "kendra":
		if o.kendraIndex == "" {
			st.Close()
			return nil, nil, fmt.Errorf("--retriever kendra needs --kendra-index-id")
		}
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			st.Close()
			return nil, nil, fmt.Errorf("aws config: %w", err)
		}
		cfg.Retriever = &kendraret.Retriever{Client: kendra.NewFromConfig(awsCfg), IndexID: o.kendraIndex, QueryForKorean: true}
	default:
		st.Close()
		return nil, nil, fmt.Errorf("unknown --retriever %q (want embedded or kendra)", o.retriever)
	}
	if o.feedback != "" {
		cfg.Feedback = fileFeedback(o.feedback)
	}
	return server.New(cfg), func() { st.Close() }, nil
}

func fileFeedback(path string) func(context.Context, server.Feedback) error {
	var mu sync.Mutex
	return func(_ context.Context, fb server.Feedback) error {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		line := struct {
			server.Feedback
			Subject string    `json:"subject,omitempty"`
			Time    time.Time `json:"time"`
		}{fb, fb.Subject, time.Now().UTC()}
		return json.NewEncoder(f).Encode(line)
	}
}
