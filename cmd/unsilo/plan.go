package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/server"
	"github.com/unsilo/unsilo/internal/argo"
	"github.com/unsilo/unsilo/internal/catalog"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/plan"
	"github.com/unsilo/unsilo/internal/render"
	"github.com/unsilo/unsilo/internal/team"
)

func planCmd(e *env) *cobra.Command {
	var (
		asJSON bool
		base   string
	)
	c := &cobra.Command{
		Use:   "plan [PATH...]",
		Short: "Show, per XR, the AWS resources it creates and the fields a reviewer cares about",
		Long: `Shows every resource an XR will own once AWS has answered, including those
composed only after another exists (node groups after their cluster, a bucket
policy after its distribution); values AWS assigns read "(known after apply)".
PATH is a file or folder of XRs; the default is every example under
compositions/ and every XR each environment syncs (its infrastructure and
its teams' claims, at its release, with its settings filled in), named
"<env>: Kind/namespace/name".

--diff BASE renders BASE (a git ref, in a temporary worktree, with BASE's own
function code) and the working tree, and prints as markdown for a pull
request comment the AWS resources added, changed and removed per team and
claim, and the policy findings; stateful resources deleted or replaced are
called out first.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if base != "" {
				return planDiff(cmd, e, base, args)
			}
			snap, plans, err := e.plan(cmd, args)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(snap)
			}
			return plan.Write(cmd.OutOrStdout(), plans)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the converged resources as JSON (what --diff compares)")
	c.Flags().StringVar(&base, "diff", "", "compare with a git ref and print markdown for a pull request")
	return c
}

// plan renders every XR of the files to convergence.
func (e *env) plan(cmd *cobra.Command, args []string) (plan.Snapshot, []plan.XR, error) {
	var snap plan.Snapshot
	cat, err := e.catalog()
	if err != nil {
		return snap, nil, err
	}
	fn, err := e.function()
	if err != nil {
		return snap, nil, err
	}
	files, err := e.xrFiles(cat, args)
	if err != nil {
		return snap, nil, err
	}
	byFile := map[string][]manifest.Object{}
	worlds := map[string][]unstructured.Unstructured{}
	for _, f := range files {
		objs, err := manifest.ReadFile(f)
		if err != nil {
			return snap, nil, err
		}
		byFile[f] = objs
		for _, o := range objs {
			worlds[catalog.World(f)] = append(worlds[catalog.World(f)], *o.Unstructured)
		}
	}
	root, err := e.repo()
	if err != nil {
		return snap, nil, err
	}
	platform, err := catalog.Platform(root)
	if err != nil {
		return snap, nil, err
	}
	catalog.AddPlatform(worlds, platform)
	var plans []plan.XR
	for _, f := range files {
		for _, o := range byFile[f] {
			if !cat.IsXR(o.Unstructured) {
				continue
			}
			p, s, err := planXR(cmd, fn, o, worlds[catalog.World(f)], e.rel(o.Where()), e.rel(catalog.World(f)))
			if err != nil {
				return snap, nil, err
			}
			plans = append(plans, p)
			snap.XRs = append(snap.XRs, s)
		}
	}
	if len(args) > 0 {
		return snap, plans, nil
	}
	// Every XR each environment syncs, as its Argo CD gets it (at the
	// release's revision, with the environment's settings filled in).
	synced, err := e.syncedXRs(cmd)
	if err != nil {
		return snap, nil, err
	}
	for _, x := range synced {
		o := manifest.Object{File: x.file, Unstructured: x.u}
		p, s, err := planXR(cmd, fn, o, x.world, x.file, x.group)
		if err != nil {
			return snap, nil, err
		}
		p.ID, s.ID = x.env+": "+p.ID, x.env+": "+s.ID
		s.Protected = x.protected
		plans = append(plans, p)
		snap.XRs = append(snap.XRs, s)
	}
	return snap, plans, nil
}

// syncedXR is an XR an environment syncs.
type syncedXR struct {
	env, file, group string
	u                *unstructured.Unstructured
	world            []unstructured.Unstructured
	protected        bool
}

// syncedXRs follows every environment's Argo CD tree and returns its XRs,
// each with every XR of that environment as its world.
func (e *env) syncedXRs(cmd *cobra.Command) ([]syncedXR, error) {
	root, err := e.repo()
	if err != nil {
		return nil, err
	}
	cat, err := e.catalog()
	if err != nil {
		return nil, err
	}
	repo, err := argo.NewRepo(cmd.Context(), root, team.RepoURL, "HEAD")
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	envs, err := team.Environments(root)
	if err != nil {
		return nil, err
	}
	var out []syncedXR
	for _, env := range envs {
		apps, err := repo.Environment(cmd.Context(), env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (unsilo verify tells more)", env, err)
		}
		var world []unstructured.Unstructured // every XR of the environment, as required resources
		var xrs []syncedXR
		for _, a := range apps {
			for _, u := range a.Objects {
				if !cat.IsXR(u) {
					continue
				}
				file := a.Files[u]
				opts := u.GetAnnotations()["argocd.argoproj.io/sync-options"]
				xrs = append(xrs, syncedXR{env: env, file: file, group: env + "/" + filepath.Dir(file), u: u,
					protected: strings.Contains(opts, "Prune=false") && strings.Contains(opts, "Delete=false")})
				world = append(world, *u)
			}
		}
		for i := range xrs {
			xrs[i].world = world
		}
		out = append(out, xrs...)
	}
	return out, nil
}

func planXR(cmd *cobra.Command, fn *server.Server, o manifest.Object, avail []unstructured.Unstructured, where, group string) (plan.XR, plan.XRSnapshot, error) {
	p := plan.XR{Where: where, ID: o.ID()}
	out, err := render.Converge(cmd.Context(), fn, render.Input{XR: o.Unstructured, Available: avail})
	var fatal *render.FatalError
	switch {
	case errors.As(err, &fatal):
		p.Err = fatal.Message
		return p, plan.XRSnapshot{ID: o.ID(), Group: group, Where: where, Error: fatal.Message}, nil
	case err != nil:
		return p, plan.XRSnapshot{}, fmt.Errorf("%s: %w", where, err)
	}
	p.Rows = plan.Rows(out)
	return p, plan.SnapshotOf(o.ID(), group, where, out), nil
}

// xrFiles expands PATH arguments (files or folders) into YAML files; with
// none it lists every example (the environments' XRs come from their trees).
func (e *env) xrFiles(cat *catalog.Catalog, args []string) ([]string, error) {
	if len(args) == 0 {
		return cat.Examples()
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

// relTo makes paths in a snapshot relative to root, so the same file
// compares equal in two checkouts.
func relTo(root string, s plan.Snapshot) plan.Snapshot {
	abs, _ := filepath.Abs(root)
	for i := range s.XRs {
		for _, p := range []*string{&s.XRs[i].Group, &s.XRs[i].Where} {
			if r, err := filepath.Rel(abs, *p); err == nil && !strings.HasPrefix(r, "..") {
				*p = r
			}
		}
	}
	return s
}
