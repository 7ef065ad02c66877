package verify

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/catalog"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/policy"
	"github.com/unsilo/unsilo/internal/render"
	"github.com/unsilo/unsilo/internal/schema"
)

// Checker holds what every check needs; build it once per run.
type Checker struct {
	Root     string
	Catalog  *catalog.Catalog
	Schemas  *schema.Validator
	Policies *policy.Engine
	Function render.Runner
}

// Run verifies the XR files and the overlays under the given roots.
func (c *Checker) Run(ctx context.Context, xrFiles, overlays []string) (*Report, error) {
	r := &Report{}
	for _, f := range xrFiles {
		if err := c.verifyFile(ctx, r, f); err != nil {
			return nil, err
		}
	}
	for _, dir := range overlays {
		if err := c.verifyOverlay(ctx, r, dir); err != nil {
			return nil, err
		}
	}
	r.sort()
	return r, nil
}

// verifyFile checks every document of a file of XRs (and the other
// resources a team keeps beside them).
func (c *Checker) verifyFile(ctx context.Context, r *Report, file string) error {
	objs, err := manifest.ReadFile(file)
	if err != nil {
		r.add(Finding{Where: file, Object: "-", Reason: err.Error(), Rule: "yaml"})
		return nil
	}
	avail := make([]unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		avail = append(avail, *o.Unstructured)
	}
	for _, o := range objs {
		if isKustomization(o.Unstructured) {
			continue // built and checked as an overlay
		}
		if !c.Catalog.IsXR(o.Unstructured) {
			c.checkSchema(r, o.Where(), o.Unstructured)
			c.checkPolicy(ctx, r, o.Where(), o.Unstructured, nil, nil, policy.SourceManifest)
			continue
		}
		r.XRs++
		if n := c.checkSchema(r, o.Where(), o.Unstructured); n > 0 {
			continue // an XR the API server would refuse is never rendered
		}
		out, err := render.Render(ctx, c.Function, render.Input{XR: o.Unstructured, Available: avail})
		var fatal *render.FatalError
		if errors.As(err, &fatal) {
			r.add(Finding{Where: o.Where(), Object: o.ID(), Reason: fatal.Message, Rule: "render"})
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", o.Where(), o.ID(), err)
		}
		c.checkComposed(ctx, r, o, out)
	}
	return nil
}

func (c *Checker) checkComposed(ctx context.Context, r *Report, xr manifest.Object, out *render.Output) {
	refs := make([]policy.Ref, 0, len(out.Composed))
	for i := range out.Composed {
		cd := &out.Composed[i]
		refs = append(refs, policy.Ref{APIVersion: cd.GetAPIVersion(), Kind: cd.GetKind(), Name: cd.GetAnnotations()[render.AnnotationResourceName]})
	}
	for i := range out.Composed {
		cd := &out.Composed[i]
		r.Composed++
		name := cd.GetAnnotations()[render.AnnotationResourceName]
		where := xr.Where()
		obj := fmt.Sprintf("%s -> %s %s", xr.ID(), cd.GetKind(), name)
		for _, f := range c.Schemas.Validate(cd) {
			r.add(Finding{Where: where, Object: obj, Field: f.Path, Reason: f.Reason, Rule: "schema"})
		}
		c.policyFindings(ctx, r, where, obj, cd, xr.Unstructured, refs, policy.SourceComposed)
	}
}

// checkSchema validates one object and returns how many findings it had.
func (c *Checker) checkSchema(r *Report, where string, u *unstructured.Unstructured) int {
	fs := c.Schemas.Validate(u)
	for _, f := range fs {
		r.add(Finding{Where: where, Object: manifest.ID(u), Field: f.Path, Reason: f.Reason, Rule: "schema"})
	}
	return len(fs)
}

func (c *Checker) checkPolicy(ctx context.Context, r *Report, where string, u, xr *unstructured.Unstructured, refs []policy.Ref, source string) {
	c.policyFindings(ctx, r, where, manifest.ID(u), u, xr, refs, source)
}

func (c *Checker) policyFindings(ctx context.Context, r *Report, where, obj string, u, xr *unstructured.Unstructured, refs []policy.Ref, source string) {
	in := policy.Input{Resource: u.Object, Composed: refs, Source: source}
	if xr != nil {
		in.XR = xr.Object
	}
	vs, err := c.Policies.Eval(ctx, in)
	if err != nil {
		r.add(Finding{Where: where, Object: obj, Reason: err.Error(), Rule: "policy"})
		return
	}
	for _, v := range vs {
		r.add(Finding{Where: where, Object: obj, Field: v.Field, Reason: v.Message + " (fix: " + v.Fix + ")", Rule: v.Rule})
	}
}

func (c *Checker) verifyOverlay(ctx context.Context, r *Report, dir string) error {
	r.Overlays++
	rel, _ := filepath.Rel(c.Root, dir)
	objs, err := Build(dir)
	if err != nil {
		r.add(Finding{Where: rel, Object: "kustomization", Reason: err.Error(), Rule: "kustomize"})
		return nil
	}
	for _, u := range objs {
		r.Objects++
		where := rel + " (kustomize build)"
		c.checkSchema(r, where, u)
		c.checkPolicy(ctx, r, where, u, nil, nil, policy.SourceManifest)
	}
	return nil
}

func isKustomization(u *unstructured.Unstructured) bool {
	return u.GroupVersionKind().Group == "kustomize.config.k8s.io"
}
