// Command unsilo is the platform CLI: render XRs with the platform's own
// composition function, show a reviewer what they create, and verify the
// whole repo the way the cluster would judge it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/functions/server"
	"github.com/unsilo/unsilo/internal/catalog"
)

// errFindings makes the process exit 1 after the findings were printed.
var errFindings = errors.New("findings")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := root().ExecuteContext(ctx)
	stop()
	switch {
	case errors.Is(err, errFindings):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "unsilo:", err)
		os.Exit(2)
	}
}

// env is what every subcommand shares.
type env struct {
	root  string
	debug bool
}

func root() *cobra.Command {
	e := &env{}
	c := &cobra.Command{
		Use:           "unsilo",
		Short:         "Render, plan and verify the unsilo platform",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	c.PersistentFlags().StringVar(&e.root, "root", "", "repository root (default: the nearest parent holding compositions/)")
	c.PersistentFlags().BoolVar(&e.debug, "debug", false, "log the function's debug output")
	c.AddCommand(renderCmd(e), planCmd(e), verifyCmd(e), teamCmd(e), artifactsCmd(e), bootstrapCmd(e))
	return c
}

func (e *env) repo() (string, error) {
	if e.root != "" {
		return e.root, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "compositions")); err == nil && st.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no compositions/ folder here or above; run inside the repo or pass --root")
		}
		dir = parent
	}
}

func (e *env) catalog() (*catalog.Catalog, error) {
	r, err := e.repo()
	if err != nil {
		return nil, err
	}
	return catalog.Load(r)
}

func (e *env) function() (*server.Server, error) {
	w := io.Discard // an io.Writer, so os.Stderr fits below
	if e.debug {
		w = os.Stderr
	}
	return server.New(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})), server.APIs()...)
}

// rel shortens a path under the repo root for display.
func (e *env) rel(p string) string {
	root, err := e.repo()
	if err != nil {
		return p
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(abs, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}
