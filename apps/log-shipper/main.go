// Command log-shipper turns AWS logs (ALB, VPC Flow, WAF, CloudTrail,
// CloudFront) and Fluent Bit container logs into a Hive-partitioned Parquet
// lake, prints Athena DDL for it and queries it locally with DuckDB.
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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err := rootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "log-shipper:", err)
		os.Exit(1)
	}
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "log-shipper",
		Short:         "AWS and container logs to a Hive-partitioned Parquet lake, with Athena DDL and local SQL",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(ddlCmd(), ingestCmd(), genCmd(), queryCmd(), serveCmd(), watchCmd(), compactCmd(), verifyTrailCmd())
	return root
}
