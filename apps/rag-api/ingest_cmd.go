package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/rag-api/index"
	"github.com/unsilo/unsilo/apps/rag-api/ingest"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

// ingestOpts are the ingest settings shared by `ingest` and `serve`.
type ingestOpts struct {
	maxBytes     int64
	maxChunks    int
	parseTimeout time.Duration
	exts         []string
	skipDirs     []string
	allowEmpty   bool
	pdfCache     string
}

func addIngestFlags(cmd *cobra.Command, o *ingestOpts) {
	f := cmd.Flags()
	f.Int64Var(&o.maxBytes, "max-file-bytes", ingest.DefaultMaxFileBytes, "skip files larger than this")
	f.IntVar(&o.maxChunks, "max-chunks-per-file", ingest.DefaultMaxChunks, "refuse files that would yield more chunks than this")
	f.DurationVar(&o.parseTimeout, "parse-timeout", ingest.DefaultParseTimeout, "stop parsing a file after this long (the file is refused until it changes)")
	f.StringSliceVar(&o.exts, "ext", nil, "only these extensions (e.g. .md,.pdf); default all supported")
	f.StringSliceVar(&o.skipDirs, "skip-dir", nil, "directory names not to descend into (e.g. testdata)")
	f.BoolVar(&o.allowEmpty, "allow-empty", false, "let a folder or prefix that turned up empty remove what was indexed from it")
	f.StringVar(&o.pdfCache, "pdf-cache-dir", ingest.DefaultPDFCacheDir(), "where compiled PDFium code is cached (\"\": compile at every start)")
}

func (o ingestOpts) ingester(ix *index.Index) (*ingest.Ingester, error) {
	if err := ingest.CheckExts(o.exts); err != nil {
		return nil, err
	}
	return &ingest.Ingester{Index: ix, MaxFileBytes: o.maxBytes, MaxChunks: o.maxChunks, ParseTimeout: o.parseTimeout,
		Exts: o.exts, SkipDirs: o.skipDirs, AllowEmpty: o.allowEmpty, PDF: ingest.NewPDFEngine(o.pdfCache, slog.Default())}, nil
}

func ingestCmd() *cobra.Command {
	var indexPath, analyzer string
	var titleWeight int
	var o ingestOpts
	cmd := &cobra.Command{
		Use:   "ingest DIR|FILE|s3://BUCKET/PREFIX...",
		Short: "Ingest documents into the on-disk index (incremental; prints a JSON report per target listing every file not indexed and why)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, targets []string) (err error) {
			an, err := search.NewAnalyzer(analyzer)
			if err != nil {
				return err
			}
			ix, err := index.Open(indexPath, an, index.Options{TitleWeight: titleWeight})
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, ix.Close()) }()
			in, err := o.ingester(ix)
			if err != nil {
				return err
			}
			defer in.PDF.Close()
			for _, t := range targets {
				rep, err := ingestTarget(cmd.Context(), in, t)
				if err != nil {
					return fmt.Errorf("ingest %s: %w", t, err)
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			}
			// One segment after a bulk load: the fastest start-up and queries.
			return ix.Compact()
		},
	}
	cmd.Flags().StringVar(&indexPath, "index", "rag-index.db", "index database file")
	cmd.Flags().StringVar(&analyzer, "analyzer", search.DefaultAnalyzer, "text analyzer (the index must be built and served with the same one)")
	cmd.Flags().IntVar(&titleWeight, "title-weight", search.DefaultTitleWeight, "how many times title terms count")
	addIngestFlags(cmd, &o)
	return cmd
}

// ingestTarget ingests a local folder or file or, for s3://bucket/prefix, an
// S3 prefix (credentials and region from the AWS default chain).
func ingestTarget(ctx context.Context, in *ingest.Ingester, target string) (ingest.Report, error) {
	rest, ok := strings.CutPrefix(target, "s3://")
	if !ok {
		return in.Path(ctx, target)
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
