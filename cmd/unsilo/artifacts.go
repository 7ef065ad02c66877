package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/internal/artifacts"
)

func artifactsCmd(e *env) *cobra.Command {
	var (
		write    bool
		registry string
	)
	c := &cobra.Command{
		Use:   "artifacts",
		Short: "Print (or --write) the image and package references of the code at hand",
		Long: `Computes each program's tag from what it is built from (its in-module
source files, go.mod, go.sum, tools/images) and prints one line per image:
NAME PATH REFERENCE. --write updates ` + artifacts.File + `, which the
manifests read; ` + "`make publish`" + ` pushes exactly these tags. --registry
changes where they are published (default: the registry the file names,
else ghcr.io/unsilo).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, err := e.repo()
			if err != nil {
				return err
			}
			file := filepath.Join(root, artifacts.File)
			if registry == "" {
				if cur, err := artifacts.Read(file); err == nil && cur["registry"] != "" {
					registry = cur["registry"]
				} else {
					registry = "ghcr.io/unsilo"
				}
			}
			tags, err := artifacts.Tags(cmd.Context(), root)
			if err != nil {
				return err
			}
			for _, p := range artifacts.Programs {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s/%s:%s\n", p.Name, p.Path, registry, p.Name, tags[p.Name])
			}
			if !write {
				return nil
			}
			b := artifacts.Render(registry, tags)
			if old, err := os.ReadFile(file); err == nil && bytes.Equal(old, b) {
				return nil
			}
			return os.WriteFile(file, b, 0o644)
		},
	}
	c.Flags().BoolVar(&write, "write", false, "update "+artifacts.File)
	c.Flags().StringVar(&registry, "registry", "", "registry and namespace the images are published to (e.g. ghcr.io/unsilo, 127.0.0.1:5000/unsilo)")
	return c
}
