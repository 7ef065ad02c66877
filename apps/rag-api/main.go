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
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rag-api:", err)
		os.Exit(1)
	}
}

// run is the whole command, so that its defers (closing the index, the
// store) have run before main exits with the status.
func run(ctx context.Context) error {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	root := &cobra.Command{
		Use:           "rag-api",
		Short:         "Grounded question answering over company documents (Korean and English)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(evalCmd(), ingestCmd(), serveCmd(), lambdaCmd())
	return root.ExecuteContext(ctx)
}

func errUsage(format string, args ...any) error { return fmt.Errorf(format, args...) }
