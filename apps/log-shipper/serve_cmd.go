package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/log-shipper/intake"
)

func serveCmd() *cobra.Command {
	var addr, out string
	cfg := intake.Config{}
	cmd := &cobra.Command{
		Use:   "serve --addr 127.0.0.1:8088 --out DIR|s3://bucket/prefix --spool DIR",
		Short: "HTTP intake for Fluent Bit's http output (json_lines or json), spooled to disk, flushed to Parquet",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			store, cleanup, err := openStore(ctx, out, func() (*s3.Client, error) {
				c, err := config.LoadDefaultConfig(ctx)
				if err != nil {
					return nil, fmt.Errorf("aws config: %w", err)
				}
				return s3.NewFromConfig(c), nil
			})
			if err != nil {
				return err
			}
			defer cleanup()
			cfg.Store, cfg.Log = store, slog.Default()
			srv, err := intake.New(cfg)
			if err != nil {
				return err
			}
			if err := srv.Start(ctx); err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
			slog.Info("intake listening", "addr", ln.Addr().String(), "lake", store.String(), "spool", cfg.SpoolDir)
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			select {
			case err := <-errc:
				if !errors.Is(err, http.ErrServerClosed) {
					return fmt.Errorf("serve: %w", err)
				}
			case <-ctx.Done():
			}
			shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := hs.Shutdown(shutdown); err != nil {
				slog.Warn("http shutdown", "err", err)
			}
			return srv.Close(shutdown)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8088", "listen address")
	cmd.Flags().StringVar(&out, "out", "", "lake root: a directory or s3://bucket/prefix")
	cmd.Flags().StringVar(&cfg.SpoolDir, "spool", "", "spool directory (fsynced before each 200)")
	cmd.Flags().IntVar(&cfg.MaxBatchRecords, "batch-records", 50000, "flush after this many records")
	cmd.Flags().Int64Var(&cfg.MaxBatchBytes, "batch-bytes", 64<<20, "flush after this many body bytes")
	cmd.Flags().DurationVar(&cfg.FlushInterval, "flush-interval", time.Minute, "flush when the oldest pending request is this old")
	cmd.Flags().Int64Var(&cfg.MaxBodyBytes, "max-body", 32<<20, "largest accepted request body")
	cmd.Flags().StringVar(&cfg.Account, "account", "", "AWS account the cluster's logs are partitioned under (default unknown)")
	cmd.Flags().StringVar(&cfg.Region, "region", "", "AWS region the cluster's logs are partitioned under (default unknown)")
	_ = cmd.MarkFlagRequired("out")
	_ = cmd.MarkFlagRequired("spool")
	return cmd
}
