package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/catalog"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/plan"
	"github.com/unsilo/unsilo/internal/render"
)

func planCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "plan [PATH...]",
		Short: "Show, per XR, the AWS resources it creates and the fields a reviewer cares about",
		Long: `Shows every resource an XR will own once AWS has answered, including those
composed only after another exists (node groups after their cluster, a bucket
policy after its distribution); values AWS assigns read "(known after apply)".
PATH is a file or folder of XRs; the default is every example under
compositions/ and every claim under teams/.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := e.catalog()
			if err != nil {
				return err
			}
			fn, err := e.function()
			if err != nil {
				return err
			}
			files, err := e.xrFiles(cat, args)
			if err != nil {
				return err
			}
			byFile := map[string][]manifest.Object{}
			worlds := map[string][]unstructured.Unstructured{}
			for _, f := range files {
				objs, err := manifest.ReadFile(f)
				if err != nil {
					return err
				}
				byFile[f] = objs
				for _, o := range objs {
					worlds[catalog.World(f)] = append(worlds[catalog.World(f)], *o.Unstructured)
				}
			}
			var plans []plan.XR
			for _, f := range files {
				objs, avail := byFile[f], worlds[catalog.World(f)]
				for _, o := range objs {
					if !cat.IsXR(o.Unstructured) {
						continue
					}
					p := plan.XR{Where: e.rel(o.Where()), ID: o.ID()}
					out, err := render.Converge(cmd.Context(), fn, render.Input{XR: o.Unstructured, Available: avail})
					var fatal *render.FatalError
					switch {
					case errors.As(err, &fatal):
						p.Err = fatal.Message
					case err != nil:
						return fmt.Errorf("%s: %w", o.Where(), err)
					default:
						p.Rows = plan.Rows(out)
					}
					plans = append(plans, p)
				}
			}
			return plan.Write(cmd.OutOrStdout(), plans)
		},
	}
}

// xrFiles expands PATH arguments (files or folders) into YAML files; with
// none it lists every example and every team file.
func (e *env) xrFiles(cat *catalog.Catalog, args []string) ([]string, error) {
	if len(args) == 0 {
		root, err := e.repo()
		if err != nil {
			return nil, err
		}
		ex, err := cat.Examples()
		if err != nil {
			return nil, err
		}
		teams, err := manifest.YAMLFiles(filepath.Join(root, "teams"), catalog.IsFixture)
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		return append(ex, teams...), nil
	}
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		files, err := manifest.YAMLFiles(a, catalog.IsFixture)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}
