package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/log-shipper/lake"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

func ingestCmd() *cobra.Command {
	var typ, out string
	var asJSON, quiet bool
	var workers int
	var maxInput int64
	var vpcFields string
	cmd := &cobra.Command{
		Use:   "ingest --type alb|vpcflow|waf|cloudtrail|cloudfront|container|auto --out DIR|s3://bucket/prefix FILE|DIR|s3://bucket/prefix...",
		Short: "Parse log files (plain or gzip) into Hive-partitioned Parquet, quarantining bad lines",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if typ != "auto" {
				if _, err := schema.Lookup(typ); err != nil {
					return err
				}
			}
			var s3c *s3.Client
			client := func() (*s3.Client, error) {
				if s3c != nil {
					return s3c, nil
				}
				cfg, err := config.LoadDefaultConfig(ctx)
				if err != nil {
					return nil, fmt.Errorf("aws config: %w", err)
				}
				s3c = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = os.Getenv("AWS_S3_PATH_STYLE") == "true" })
				return s3c, nil
			}
			store, cleanup, err := openStore(ctx, out, client)
			if err != nil {
				return err
			}
			defer cleanup()
			var inputs []lake.Input
			for _, a := range args {
				var in []lake.Input
				if bucket, prefix, ok := lake.ParseS3URL(a); ok {
					c, err := client()
					if err != nil {
						return err
					}
					in, err = lake.S3Inputs(ctx, c, bucket, prefix)
					if err != nil {
						return err
					}
				} else if in, err = lake.LocalInputs(a); err != nil {
					return err
				}
				inputs = append(inputs, in...)
			}
			var progress io.Writer
			if !quiet {
				progress = cmd.ErrOrStderr()
			}
			ing := &lake.Ingester{Store: store, Source: typ, Log: slog.Default(), Progress: progress, Workers: workers,
				MaxInputBytes: maxInput,
				VPCFields:     strings.FieldsFunc(vpcFields, func(r rune) bool { return r == ' ' || r == ',' })}
			rep, err := ing.Run(ctx, inputs)
			// The summary is printed whatever happened, failures included.
			if perr := printReport(cmd.OutOrStdout(), rep, asJSON); perr != nil {
				return perr
			}
			if errors.Is(err, lake.ErrInputsFailed) {
				return fmt.Errorf("%d of %d inputs failed (listed in the summary; nothing of them was committed, rerun to finish)", len(rep.Failed), rep.Inputs)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&typ, "type", "auto", "log type, or auto to detect per file")
	cmd.Flags().StringVar(&out, "out", "", "lake root: a directory or s3://bucket/prefix")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as one JSON object")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress on stderr")
	cmd.Flags().StringVar(&vpcFields, "vpc-fields", "", "field list of headerless VPC Flow Log files, e.g. \"version srcaddr dstaddr ... start end action log-status\" (default: the v2 format)")
	cmd.Flags().Int64Var(&maxInput, "max-input-bytes", 0, "quarantine (whole) any input larger than this many raw bytes; 0 = no limit beyond the parsers' (512 MiB per JSON document)")
	cmd.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "inputs processed concurrently")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func openStore(ctx context.Context, out string, client func() (*s3.Client, error)) (lake.Store, func(), error) {
	if bucket, prefix, ok := lake.ParseS3URL(out); ok {
		c, err := client()
		if err != nil {
			return nil, nil, err
		}
		// Staging for S3 uploads: run directories under one parent in the
		// temp dir, so a killed run's leftovers go with the next start.
		parent := filepath.Join(os.TempDir(), "log-shipper-staging")
		if _, err := lake.CleanStaging(parent); err != nil {
			return nil, nil, err
		}
		dir, err := lake.NewStagingDir(parent)
		if err != nil {
			return nil, nil, err
		}
		return &lake.S3Store{Client: c, Bucket: bucket, Prefix: prefix, Staging: dir}, func() { os.RemoveAll(dir) }, nil
	}
	st, err := lake.NewLocalStore(out)
	if err != nil {
		return nil, nil, err
	}
	return st, func() { _ = st.Close() }, nil // best effort: only this run's staging dir
}

func printReport(w io.Writer, rep *lake.Report, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("encode report: %w", err)
		}
		return nil
	}
	mb := float64(rep.BytesIn) / (1 << 20)
	fmt.Fprintf(w, "inputs: %d (%.1f MiB) in %.2fs\n", rep.Inputs, mb, rep.Seconds)
	fmt.Fprintf(w, "records written: %d", rep.Records)
	var srcs []string
	for s := range rep.BySource {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	for _, s := range srcs {
		fmt.Fprintf(w, "  %s=%d", s, rep.BySource[s])
	}
	fmt.Fprintf(w, "\nobjects written: %d\nquarantined: %d\n", rep.Files, rep.Quarantined)
	if rep.Replaced > 0 || rep.Unchanged > 0 {
		fmt.Fprintf(w, "replaced files of earlier input versions: %d, inputs already committed: %d\n", rep.Replaced, rep.Unchanged)
	}
	if rep.Digests > 0 {
		fmt.Fprintf(w, "cloudtrail digest files: %d (integrity data, not ingested)\n", rep.Digests)
	}
	if len(rep.Skipped) > 0 {
		var kinds []string
		for k := range rep.Skipped {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		fmt.Fprintf(w, "skipped lines:")
		for _, k := range kinds {
			fmt.Fprintf(w, "  %s=%d", k, rep.Skipped[k])
		}
		fmt.Fprintln(w)
	}
	for _, f := range rep.Failed {
		fmt.Fprintf(w, "FAILED %s: %s\n", f.Input, f.Error)
	}
	var reasons []string
	for r := range rep.Reasons {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if rep.Reasons[reasons[i]] != rep.Reasons[reasons[j]] {
			return rep.Reasons[reasons[i]] > rep.Reasons[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	for _, r := range reasons {
		fmt.Fprintf(w, "  %6d  %s\n", rep.Reasons[r], r)
	}
	return nil
}
