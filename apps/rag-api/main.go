// Command rag-api answers questions over company documents with cited
// sources: ingest, serve (HTTP + web UI), Lambda mode and retrieval eval.
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
	root := &cobra.Command{
		Use:           "rag-api",
		Short:         "Grounded question answering over company documents (Korean and English)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(evalCmd(), ingestCmd(), serveCmd(), lambdaCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "rag-api:", err)
		os.Exit(1)
	}
}

func errUsage(format string, args ...any) error { return fmt.Errorf(format, args...) }
