package verify

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/unsilo/unsilo/internal/argo"
	"github.com/unsilo/unsilo/internal/catalog"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/policy"
	"github.com/unsilo/unsilo/internal/render"
	"github.com/unsilo/unsilo/internal/schema"
)

// Checker holds what every check needs; build it once per run.
type Checker struct {
	Root string
	// Teams turns on the team.yaml checks of teams/ under Root.
	Teams bool
	// Environments turns on the checks of what each environment's Argo CD
	// syncs (clusters/<env>), at the revisions its release names.
	Environments bool
	// Main is the ref a pinned release must be on the history of; empty
	// means main.
	Main string
	// Quick skips rendering XRs and the schema and policy checks of what
	// environments sync: for tests of the delivery structure.
	Quick bool
	// NoArtifacts skips computing the tags of a pinned release's code.
	NoArtifacts bool
	// Only limits the environment checks to these environments (all when
	// empty).
	Only     []string
	Catalog  *catalog.Catalog
	Schemas  *schema.Validator
	Policies *policy.Engine
	Function render.Runner
	// Now is the clock of the end-of-support checks (nil: time.Now).
	Now func() time.Time

	repo *argo.Repo
}

// Run verifies the XR files and the overlays under the given roots.
func (c *Checker) Run(ctx context.Context, xrFiles, overlays []string) (*Report, error) {
	r := &Report{}
	files := map[string][]manifest.Object{}
	// A render sees the other objects of its world (catalog.World), as the
	// cluster would: a team's WebPortal finds its Network in the next file.
	avail := map[string][]unstructured.Unstructured{}
	for _, f := range xrFiles {
		objs, err := manifest.ReadFile(f)
		if err != nil {
			r.add(Finding{File: f, Object: "-", Reason: err.Error(), Rule: "yaml"})
			continue
		}
		files[f] = objs
		for _, o := range objs {
			avail[catalog.World(f)] = append(avail[catalog.World(f)], *o.Unstructured)
		}
	}
	if err := c.withPlatform(avail); err != nil {
		return nil, err
	}
	names := map[string]*claimed{}
	for _, f := range xrFiles {
		if objs, ok := files[f]; ok {
			w := catalog.World(f)
			if names[w] == nil {
				names[w] = &claimed{by: map[string]string{}}
			}
			if err := c.verifyObjects(ctx, r, objs, avail[w], names[w], nil); err != nil {
				return nil, err
			}
		}
	}
	for _, dir := range overlays {
		if err := c.verifyOverlay(ctx, r, dir); err != nil {
			return nil, err
		}
	}
	if err := c.checkAcross(r); err != nil {
		return nil, err
	}
	if c.Teams {
		if err := c.checkTeams(r); err != nil {
			return nil, err
		}
	}
	if c.Environments {
		if err := c.checkEnvironments(ctx, r); err != nil {
			return nil, err
		}
	}
	r.sort()
	return r, nil
}

// verifyObjects checks every document of a file of XRs (and the other
// resources a team keeps beside them); e is the environment that syncs
// them, nil for examples.
func (c *Checker) verifyObjects(ctx context.Context, r *Report, objs []manifest.Object, avail []unstructured.Unstructured, names *claimed, e *environment) error {
	for _, o := range objs {
		if isKustomization(o.Unstructured) {
			continue // built and checked as an overlay
		}
		names.claim(r, o, o.Unstructured, o.ID())
		if !c.Catalog.IsXR(o.Unstructured) {
			c.checkSchema(r, o.File, o.Line, o.Unstructured)
			c.checkPolicy(ctx, r, o.File, o.Line, o.Unstructured)
			continue
		}
		r.XRs++
		if n := c.checkSchema(r, o.File, o.Line, o.Unstructured); n > 0 || c.Quick {
			continue // an XR the API server would refuse is never rendered
		}
		// The API server gives every XR a uid, which Crossplane puts in the
		// composed resources' owner references; a render has none.
		xr := o.DeepCopy()
		xr.SetUID(types.UID("00000000-0000-0000-0000-000000000000"))
		// Check everything the XR will own, not just the first reconcile.
		out, err := render.Converge(ctx, c.Function, render.Input{XR: xr, Available: avail})
		var fatal *render.FatalError
		if errors.As(err, &fatal) {
			r.add(Finding{File: o.File, Line: o.Line, Object: o.ID(), Reason: fatal.Message, Rule: "render"})
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", o.Where(), o.ID(), err)
		}
		for i := range out.Composed {
			cd := &out.Composed[i]
			if cd.GetName() != "" {
				names.claim(r, o, cd, o.ID()+" -> "+cd.GetAnnotations()[render.AnnotationResourceName])
			}
			if e != nil && cd.GetKind() == "Bucket" && strings.HasPrefix(cd.GetAPIVersion(), "s3.") {
				if n := cd.GetAnnotations()["crossplane.io/external-name"]; n != "" && !globalName(n, e.name) {
					r.add(Finding{File: o.File, Line: o.Line, Object: o.ID() + " -> " + cd.GetAnnotations()[render.AnnotationResourceName], Field: "bucket name", Rule: "global-name",
						Reason: fmt.Sprintf("S3 bucket %q is a name unique across every AWS account and does not carry the environment %s: another environment's copy of this claim would collide; put %s in it", n, e.name, e.name)})
				}
			}
		}
		c.checkComposed(ctx, r, o, out)
		c.checkAWS(r, o, out)
		r.converged = append(r.converged, convergedXR{xr: o, out: out})
	}
	return nil
}

// claimed records which object holds each name in one world (a team's
// namespace): two objects of one kind and name overwrite each other.
type claimed struct{ by map[string]string }

func (n *claimed) claim(r *Report, at manifest.Object, u *unstructured.Unstructured, who string) {
	key := u.GroupVersionKind().GroupKind().String() + "/" + u.GetNamespace() + "/" + u.GetName()
	if prev, ok := n.by[key]; ok {
		r.add(Finding{File: at.File, Line: at.Line, Object: who, Field: "metadata.name", Rule: "name-clash",
			Reason: fmt.Sprintf("%s %s/%s is also %s; one would overwrite the other", u.GetKind(), u.GetNamespace(), u.GetName(), prev)})
		return
	}
	n.by[key] = who
}

func (c *Checker) checkComposed(ctx context.Context, r *Report, xr manifest.Object, out *render.Output) {
	refs := make([]policy.Ref, 0, len(out.Composed))
	for i := range out.Composed {
		cd := &out.Composed[i]
		refs = append(refs, policy.Ref{APIVersion: cd.GetAPIVersion(), Kind: cd.GetKind(), Name: cd.GetAnnotations()[render.AnnotationResourceName], Resource: cd.Object})
	}
	shared, err := policy.Share(xr.Object, refs)
	if err != nil {
		r.add(Finding{File: xr.File, Line: xr.Line, Object: xr.ID(), Reason: err.Error(), Rule: "policy"})
		return
	}
	var g grouped
	for i := range out.Composed {
		cd := &out.Composed[i]
		r.Composed++
		name := cd.GetKind() + " " + cd.GetAnnotations()[render.AnnotationResourceName]
		at := Finding{File: xr.File, Line: xr.Line}
		for _, f := range c.Schemas.Validate(cd) {
			at.Field, at.Reason, at.Rule = f.Path, f.Reason, "schema"
			g.add(at, name)
		}
		for _, f := range c.policy(ctx, cd, xr.Unstructured, shared, policy.SourceComposed) {
			at.Field, at.Reason, at.Rule = f.Field, f.Reason, f.Rule
			g.add(at, name)
		}
	}
	g.flush(r, xr.ID())
}

// checkSchema validates one object and returns how many findings it had.
func (c *Checker) checkSchema(r *Report, file string, line int, u *unstructured.Unstructured) int {
	fs := c.Schemas.Validate(u)
	for _, f := range fs {
		r.add(Finding{File: file, Line: line, Object: manifest.ID(u), Field: f.Path, Reason: f.Reason, Rule: "schema"})
	}
	return len(fs)
}

func (c *Checker) checkPolicy(ctx context.Context, r *Report, file string, line int, u *unstructured.Unstructured) {
	for _, f := range c.policy(ctx, u, nil, nil, policy.SourceManifest) {
		f.File, f.Line, f.Object = file, line, manifest.ID(u)
		r.add(f)
	}
}

// policy evaluates the policies on one object; an evaluation error is a
// finding too, so a broken policy can never pass silently.
func (c *Checker) policy(ctx context.Context, u, xr *unstructured.Unstructured, shared *policy.Shared, source string) []Finding {
	in := policy.Input{Resource: u.Object, Shared: shared, Source: source}
	if gvk := u.GroupVersionKind(); c.Schemas.Known(u.GetAPIVersion(), u.GetKind()) {
		in.Schema = &policy.Schema{
			Taggable: c.Schemas.HasProperty(gvk, "spec", "forProvider", "tags"),
			Regional: c.Schemas.HasProperty(gvk, "spec", "forProvider", "region"),
		}
	}
	if xr != nil && shared == nil {
		in.XR = xr.Object
	}
	vs, err := c.Policies.Eval(ctx, in)
	if err != nil {
		return []Finding{{Reason: err.Error(), Rule: "policy"}}
	}
	out := make([]Finding, 0, len(vs))
	for _, v := range vs {
		out = append(out, Finding{Field: v.Field, Reason: v.Message + " (fix: " + v.Fix + ")", Rule: v.Rule})
	}
	return out
}

func (c *Checker) verifyOverlay(ctx context.Context, r *Report, dir string) error {
	r.Overlays++
	rel := relative(c.Root, dir)
	objs, err := Build(dir)
	if err != nil {
		r.add(Finding{File: rel, Object: "kustomization", Reason: err.Error(), Rule: "kustomize"})
		return nil
	}
	if c.Environments {
		// What it yields is judged as the environments sync it (with the
		// options and settings Argo CD adds); here it only has to build.
		return nil
	}
	for _, u := range objs {
		r.Objects++
		where := rel + " (kustomize build)"
		c.checkSchema(r, where, 0, u)
		c.checkPolicy(ctx, r, where, 0, u)
	}
	return nil
}

func isKustomization(u *unstructured.Unstructured) bool {
	return u.GroupVersionKind().Group == "kustomize.config.k8s.io"
}

// relative shortens a path for messages when it lies under root.
func relative(root, p string) string {
	ar, err1 := filepath.Abs(root)
	ap, err2 := filepath.Abs(p)
	if err1 != nil || err2 != nil {
		return p
	}
	if rel, err := filepath.Rel(ar, ap); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

func objectID(u *unstructured.Unstructured) string { return manifest.ID(u) }

// withPlatform lets every world see the platform's own XRs.
func (c *Checker) withPlatform(worlds map[string][]unstructured.Unstructured) error {
	platform, err := catalog.Platform(c.Root)
	if err != nil {
		return err
	}
	catalog.AddPlatform(worlds, platform)
	return nil
}
