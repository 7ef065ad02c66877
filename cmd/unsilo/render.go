package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/catalog"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

func renderCmd(e *env) *cobra.Command {
	var observed string
	c := &cobra.Command{
		Use:   "render FILE...",
		Short: "Render XR manifests with the platform function, in-process, as a YAML stream",
		Long: `Runs the platform's composition function on every XR in the files and prints
the XR (with the status the function writes) and the composed resources,
exactly as 'crossplane render' would. Other objects in the same files are
available to the function as required resources (e.g. the Network a
WebPortal points at), and so are the platform's own Network and Cluster
(compositions/cluster/examples/prod.yaml), the control plane every XR
that creates roles names.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := e.catalog()
			if err != nil {
				return err
			}
			fn, err := e.function()
			if err != nil {
				return err
			}
			var obs []unstructured.Unstructured
			if observed != "" {
				objs, err := manifest.ReadFile(observed)
				if err != nil {
					return err
				}
				for _, o := range objs {
					obs = append(obs, *o.Unstructured)
				}
			}
			objs, err := readAll(args)
			if err != nil {
				return err
			}
			avail := make([]unstructured.Unstructured, 0, len(objs))
			for _, o := range objs {
				avail = append(avail, *o.Unstructured)
			}
			// The platform's control plane Cluster is always there (roles
			// name its permissions boundary).
			root, err := e.repo()
			if err != nil {
				return err
			}
			platform, err := catalog.Platform(root)
			if err != nil {
				return err
			}
			worlds := map[string][]unstructured.Unstructured{"": avail}
			catalog.AddPlatform(worlds, platform)
			avail = worlds[""]
			n := 0
			for _, o := range objs {
				if !cat.IsXR(o.Unstructured) {
					continue
				}
				n++
				out, err := render.Render(cmd.Context(), fn, render.Input{XR: o.Unstructured, Observed: obs, Available: avail})
				var fatal *render.FatalError
				if errors.As(err, &fatal) {
					return fmt.Errorf("%s: %s: %s", o.Where(), o.ID(), fatal.Message)
				}
				if err != nil {
					return fmt.Errorf("%s: %s: %w", o.Where(), o.ID(), err)
				}
				if err := render.Encode(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			}
			if n == 0 {
				return fmt.Errorf("no platform XRs in %v", args)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&observed, "observed-resources", "o", "", "YAML file of observed composed resources (as crossplane render -o)")
	return c
}

func readAll(files []string) ([]manifest.Object, error) {
	var out []manifest.Object
	for _, f := range files {
		objs, err := manifest.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}
