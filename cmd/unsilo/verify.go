package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/internal/catalog"
	"github.com/unsilo/unsilo/internal/crds"
	"github.com/unsilo/unsilo/internal/policy"
	"github.com/unsilo/unsilo/internal/schema"
	"github.com/unsilo/unsilo/internal/verify"
)

func verifyCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "verify [PATH...]",
		Short: "Validate, render and policy-check every XR, and build and check every overlay",
		Long: `Checks what the cluster would refuse before Argo CD tries:
  - every XR under compositions/*/examples/ and teams/ against its XRD (OpenAPI + CEL)
  - every resource the function composes from it against the provider-aws CRD schema
  - every composed resource and manifest against the Rego policies in policies/
  - every kustomize overlay under clusters/ and platform/: it must build, and
    what it yields must match the schemas of its kinds.
Prints one line per finding (file, resource, field, reason [rule]) and exits 1
if there is any. PATH limits the check to files or folders.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			root, err := e.repo()
			if err != nil {
				return err
			}
			c, err := e.checker(cmd)
			if err != nil {
				return err
			}
			c.Teams = len(args) == 0
			files, err := e.xrFiles(c.Catalog, args)
			if err != nil {
				return err
			}
			roots := args
			if len(roots) == 0 {
				roots = []string{filepath.Join(root, "clusters"), filepath.Join(root, "platform"), filepath.Join(root, "teams")}
			}
			overlays, err := verify.Overlays(roots...)
			if err != nil {
				return err
			}
			rep, err := c.Run(cmd.Context(), files, overlays)
			if err != nil {
				return err
			}
			for _, f := range rep.Findings {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s in %s\n", rep.Summary(), time.Since(start).Round(time.Millisecond))
			if len(rep.Findings) > 0 {
				return errFindings
			}
			return nil
		},
	}
}

// validator loads the provider, Crossplane and Argo CD CRDs and our XRDs.
func validator(cmd *cobra.Command, cat *catalog.Catalog) (*schema.Validator, error) {
	v := schema.New()
	for _, s := range crds.Sources {
		dir, err := crds.Locate(cmd.Context(), s)
		if err != nil {
			return nil, err
		}
		if err := v.AddCRDDir(dir); err != nil {
			return nil, fmt.Errorf("cannot load %s CRDs: %w", s.Name, err)
		}
	}
	for _, a := range cat.APIs {
		b, err := a.XRD.MarshalJSON()
		if err != nil {
			return nil, err
		}
		if err := v.AddXRD(b); err != nil {
			return nil, fmt.Errorf("%s: %w", a.XRDFile, err)
		}
	}
	return v, nil
}

// checker builds what verify needs: schemas, policies, the function.
func (e *env) checker(cmd *cobra.Command) (*verify.Checker, error) {
	root, err := e.repo()
	if err != nil {
		return nil, err
	}
	cat, err := e.catalog()
	if err != nil {
		return nil, err
	}
	v, err := validator(cmd, cat)
	if err != nil {
		return nil, err
	}
	pol, err := policy.Load(cmd.Context(), filepath.Join(root, "policies"))
	if err != nil {
		return nil, err
	}
	fn, err := e.function()
	if err != nil {
		return nil, err
	}
	return &verify.Checker{Root: root, Catalog: cat, Schemas: v, Policies: pol, Function: fn}, nil
}

// findingsByXR verifies the XR files and groups the findings by XR id.
func (e *env) findingsByXR(cmd *cobra.Command, args []string) (map[string][]string, error) {
	c, err := e.checker(cmd)
	if err != nil {
		return nil, err
	}
	files, err := e.xrFiles(c.Catalog, args)
	if err != nil {
		return nil, err
	}
	rep, err := c.Run(cmd.Context(), files, nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, f := range rep.Findings {
		id, rest, _ := strings.Cut(f.Object, " -> ")
		msg := f.Reason + " [" + f.Rule + "]"
		if f.Field != "" {
			msg = "`" + f.Field + "`: " + msg
		}
		if rest != "" {
			msg = rest + ": " + msg
		}
		out[id] = append(out[id], msg)
	}
	return out, nil
}
