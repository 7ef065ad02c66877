// Command log-shipper turns AWS logs (ALB, VPC Flow, WAF, CloudTrail,
// CloudFront) and Fluent Bit container logs into Delta Lake tables of
// Parquet files, as a batch or as objects arrive (SQS), compacts them,
// validates CloudTrail digests, prints the Athena DDL and queries the lake
// with DuckDB or Athena.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() { os.Exit(exitCode()) }

// exitCode is main with its deferred calls run before the exit.
func exitCode() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err := rootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "log-shipper:", err)
		return 1
	}
	return 0
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "log-shipper",
		Short:         "AWS and container logs to Delta Lake tables (Parquet), ingested as they arrive, queried with DuckDB or Athena",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(ddlCmd(), ingestCmd(), genCmd(), queryCmd(), serveCmd(), watchCmd(), compactCmd(), verifyTrailCmd())
	return root
}
