package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// main writes every dashboard into -dir; `make golden` runs it from the
// repository root.
func main() {
	dir := flag.String("dir", "platform/observability/dashboards", "where the JSON files go")
	flag.Parse()
	if err := write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "dashboards:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range All() {
		b, err := d.JSON()
		if err != nil {
			return fmt.Errorf("%s: %w", d.File, err)
		}
		if err := os.WriteFile(filepath.Join(dir, d.File), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
