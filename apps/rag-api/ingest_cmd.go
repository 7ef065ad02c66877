package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/rag-api/ingest"
	"github.com/unsilo/unsilo/apps/rag-api/store"
)

func ingestCmd() *cobra.Command {
	var index string
	var maxBytes int64
	var exts, skipDirs []string
	cmd := &cobra.Command{
		Use:   "ingest DIR|s3://BUCKET/PREFIX...",
		Short: "Ingest folders of PDF, DOCX, Markdown, HTML and text into the on-disk index (incremental)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			st, err := store.Open(index)
			if err != nil {
				return err
			}
			defer st.Close()
			in := &ingest.Ingester{Store: st, MaxFileBytes: maxBytes, Exts: exts, SkipDirs: skipDirs}
			for _, d := range dirs {
				rep, err := ingestOne(cmd.Context(), in, d)
				if err != nil {
					return fmt.Errorf("ingest %s: %w", d, err)
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&index, "index", "rag-index.db", "index database file")
	cmd.Flags().Int64Var(&maxBytes, "max-file-bytes", ingest.DefaultMaxFileBytes, "skip files larger than this")
	cmd.Flags().StringSliceVar(&exts, "ext", nil, "only these extensions (e.g. .md,.pdf); default all supported")
	cmd.Flags().StringSliceVar(&skipDirs, "skip-dir", nil, "directory names not to descend into (e.g. testdata)")
	return cmd
}

// ingestOne ingests a local folder or, for s3://bucket/prefix, an S3 prefix
// (credentials and region from the AWS default chain).
func ingestOne(ctx context.Context, in *ingest.Ingester, target string) (ingest.Report, error) {
	rest, ok := strings.CutPrefix(target, "s3://")
	if !ok {
		return in.Dir(ctx, target)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return ingest.Report{}, fmt.Errorf("%q: want s3://bucket/prefix", target)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return ingest.Report{}, fmt.Errorf("aws config: %w", err)
	}
	return in.S3(ctx, s3.NewFromConfig(cfg), bucket, prefix)
}
