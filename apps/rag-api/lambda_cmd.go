package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/rag-api/lambdaapi"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

func lambdaCmd() *cobra.Command {
	var o serveOpts
	cmd := &cobra.Command{
		Use:   "lambda",
		Short: "Run the same HTTP handler as an AWS Lambda (Function URL / API Gateway HTTP API, payload 2.0)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.readOnly = true
			h, cleanup, err := buildHandler(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer cleanup()
			lambda.StartWithOptions(lambdaapi.Handler(h), lambda.WithContext(cmd.Context()))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.index, "index", "/var/task/rag-index.db", "index database file (read at cold start)")
	f.StringVar(&o.analyzer, "analyzer", search.DefaultAnalyzer, "text analyzer of the embedded index")
	addGeneratorFlags(cmd, &o)
	addIdentityFlags(cmd, &o)
	return cmd
}
