package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/log-shipper/lake"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

func compactCmd() *cobra.Command {
	var out, source string
	var target int64
	var retain time.Duration
	cmd := &cobra.Command{
		Use:   "compact --out DIR|s3://bucket/prefix",
		Short: "Merge each partition's small files into files of up to --target-bytes (one atomic Delta commit per merge), then vacuum with --retain",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			store, cleanup, err := openStore(ctx, out, func() (*s3.Client, error) {
				cfg, err := config.LoadDefaultConfig(ctx)
				if err != nil {
					return nil, fmt.Errorf("aws config: %w", err)
				}
				return s3.NewFromConfig(cfg), nil
			})
			if err != nil {
				return err
			}
			defer cleanup()
			ing := &lake.Ingester{Store: store, Log: slog.Default()}
			enc := json.NewEncoder(cmd.OutOrStdout())
			for _, s := range schema.Sources() {
				if source != "" && s.Name != source {
					continue
				}
				rep, err := ing.Compact(ctx, s, target)
				if err != nil {
					return fmt.Errorf("compact %s: %w", s.Name, err)
				}
				out := map[string]any{"table": s.Name, "result": rep}
				if retain > 0 {
					v, err := ing.Vacuum(ctx, ing.Table(s), retain)
					if err != nil {
						return fmt.Errorf("vacuum %s: %w", s.Name, err)
					}
					out["vacuum"] = v
				}
				if err := enc.Encode(out); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "lake root: a directory or s3://bucket/prefix")
	cmd.Flags().StringVar(&source, "source", "", "only this table")
	cmd.Flags().Int64Var(&target, "target-bytes", 128<<20, "files smaller than this are merged, up to this size")
	cmd.Flags().DurationVar(&retain, "retain", 0, "then delete files removed from a table, and never-committed files, older than this (0: keep all); longer than any query or ingest, e.g. 168h")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
