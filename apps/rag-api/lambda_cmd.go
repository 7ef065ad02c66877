package main

import (
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdaurl"
	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/rag-api/lambdaapi"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

func lambdaCmd() *cobra.Command {
	var o serveOpts
	var mode string
	cmd := &cobra.Command{
		Use:   "lambda",
		Short: "Run the same HTTP handler as an AWS Lambda behind a Function URL or an API Gateway HTTP API (payload 2.0)",
		Long: "Run the same HTTP handler as an AWS Lambda. The index is opened read-only (it ships in the image)\n" +
			"and its segments are decoded, not rebuilt, so the cold start stays short.\n" +
			"--invoke-mode stream answers a Function URL with InvokeMode RESPONSE_STREAM: server-sent events reach\n" +
			"the client as they are generated. buffered answers API Gateway HTTP APIs and BUFFERED Function URLs.",
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			o.readOnly = true
			app, err := build(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, app.close()) }()
			opts := []lambda.Option{lambda.WithContext(cmd.Context())}
			switch mode {
			case "stream":
				// aws-lambda-go's own adapter: the body is piped to the
				// Runtime API as the handler writes it.
				lambda.StartWithOptions(lambdaurl.Wrap(app.handler), opts...)
			case "buffered":
				lambda.StartWithOptions(lambdaapi.Handler(app.handler), opts...)
			default:
				return errUsage("--invoke-mode must be stream or buffered, got %q", mode)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.index, "index", "/var/task/rag-index.db", "index database file (read at cold start)")
	f.StringVar(&o.analyzer, "analyzer", search.DefaultAnalyzer, "text analyzer of the embedded index")
	f.IntVar(&o.titleWeight, "title-weight", search.DefaultTitleWeight, "title weight the index was built with")
	f.BoolVar(&o.prf, "prf", true, "expand queries with pseudo-relevance feedback (RM3)")
	f.StringVar(&mode, "invoke-mode", "buffered", "stream (Function URL RESPONSE_STREAM) or buffered (API Gateway HTTP API, BUFFERED Function URL)")
	f.StringVar(&o.retriever, "retriever", "embedded", "retrieval backend: embedded (the shipped index) or kendra")
	f.StringVar(&o.kendraIndex, "kendra-index-id", "", "Kendra index id (--retriever kendra)")
	addGeneratorFlags(cmd, &o)
	addIdentityFlags(cmd, &o)
	return cmd
}
