//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/unsilo/unsilo/functions/server"
	"github.com/unsilo/unsilo/internal/argo"
	"github.com/unsilo/unsilo/internal/catalog"
	"github.com/unsilo/unsilo/internal/render"
	"github.com/unsilo/unsilo/internal/team"
)

// overlay is one cluster of the dev environment as the e2e bootstraps it
// on the one loopback API server: the tree it plays, less Applications
// named here (the overlay's kustomization says why, and so does
// e2e/README.md), with roots renamed where two trees would clash.
type overlay struct {
	dir     string            // what bootstrap applies (kubectl apply -k)
	of      string            // the tree it plays
	removed []string          // Applications of that tree the overlay leaves out
	renamed map[string]string // the tree's name -> the overlay's
}

var overlays = []overlay{
	{
		dir: "e2e/overlays/dev", of: "clusters/dev",
		removed: []string{"app-alert-bridge", "app-log-shipper", "app-rag-api", "platform-logging", "platform-n8n", "platform-n8n-config", "platform-secrets"},
	},
	{
		// What the management cluster shares with the dev cluster
		// (platform/argocd/core) the dev overlay already syncs; crossplane
		// is platform-crossplane's child.
		dir: "e2e/overlays/dev-management", of: "clusters/dev/management",
		removed: []string{"argocd", "crossplane", "platform-apis", "platform-crossplane"},
		renamed: map[string]string{"root": "management-root", "release": "management-release"},
	},
}

// tree is what Argo CD syncs for every overlay: each Application (with
// its sync wave) and every XR with what `unsilo plan` converges it to.
type tree struct {
	apps  map[string]int
	xrs   []xr
	kinds map[schema.GroupKind]bool // composed kinds: what the stand-in providers install
	// The package references the tree installs (after the artifacts
	// component wrote the released Function's).
	function  string
	providers []string
}

// expand walks the overlays as internal/argo (unsilo verify) does, each
// Application built at the revision it names, and checks that each
// overlay leaves out exactly what it says of the tree it plays.
func expand(t *testing.T, ctx context.Context) tree {
	t.Helper()
	repo, err := argo.NewRepo(ctx, root, team.RepoURL, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	cat, err := catalog.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	out := tree{apps: map[string]int{}, kinds: map[schema.GroupKind]bool{}}
	var claims []*unstructured.Unstructured
	for _, o := range overlays {
		played := names(t, appsOf(t, ctx, repo, o.of))
		got := appsOf(t, ctx, repo, o.dir)
		var plays []string
		for _, a := range got {
			if a.Err != nil {
				t.Fatalf("%s: %s: %v", o.dir, a.Chain(), a.Err)
			}
			out.apps[a.Name()] = a.Wave()
			plays = append(plays, a.Name())
			for _, u := range a.Objects {
				pkg, _, _ := unstructured.NestedString(u.Object, "spec", "package")
				switch {
				case cat.IsXR(u):
					claims = append(claims, u)
				case u.GetKind() == "Function":
					out.function = pkg
				case u.GetKind() == "Provider":
					out.providers = append(out.providers, pkg)
				}
			}
		}
		if err := o.check(played, plays); err != nil {
			t.Fatalf("%s: %v", o.dir, err)
		}
	}
	fn, err := server.New(slog.New(slog.NewTextHandler(io.Discard, nil)), server.APIs()...)
	if err != nil {
		t.Fatal(err)
	}
	// One environment, one API server: every XR sees every other, as
	// gather does for an environment.
	world := make([]unstructured.Unstructured, len(claims))
	for i, u := range claims {
		world[i] = *u
	}
	for _, u := range claims {
		res, err := render.Converge(ctx, fn, render.Input{XR: u, Available: world})
		if err != nil {
			t.Fatalf("%s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
		x := xr{u: u, plan: map[string]string{}}
		for _, c := range res.Composed {
			x.plan[c.GetAnnotations()[render.AnnotationResourceName]] = c.GetKind()
			out.kinds[c.GroupVersionKind().GroupKind()] = true
		}
		out.xrs = append(out.xrs, x)
	}
	return out
}

// check: the overlay's Applications are the played tree's, renamed, less
// exactly the named removals.
func (o overlay) check(played, plays []string) error {
	var want []string
	for _, n := range played {
		if slices.Contains(o.removed, n) {
			continue
		}
		if r, ok := o.renamed[n]; ok {
			n = r
		}
		want = append(want, n)
	}
	for _, n := range o.removed {
		if !slices.Contains(played, n) {
			return fmt.Errorf("removes %s, which %s does not have: drop it from the overlay's removals", n, o.of)
		}
	}
	sort.Strings(want)
	sort.Strings(plays)
	if !slices.Equal(want, plays) {
		return fmt.Errorf("syncs Applications %v; %s less %v is %v", plays, o.of, o.removed, want)
	}
	return nil
}

// appsOf builds dir as `kubectl apply -k` does and expands the root
// Application it holds (the one syncing dir itself).
func appsOf(t *testing.T, ctx context.Context, repo *argo.Repo, dir string) []*argo.App {
	t.Helper()
	objs, err := argo.Build(filepath.Join(root, dir), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range objs {
		path, _, _ := unstructured.NestedString(u.Object, "spec", "source", "path")
		if u.GetKind() == "Application" && path == dir {
			apps, err := repo.Expand(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			return apps
		}
	}
	t.Fatalf("%s holds no root Application (one whose path is %s)", dir, dir)
	return nil
}

func names(t *testing.T, apps []*argo.App) []string {
	t.Helper()
	var out []string
	for _, a := range apps {
		if a.Err != nil {
			t.Fatalf("%s: %v", a.Chain(), a.Err)
		}
		out = append(out, a.Name())
	}
	return out
}
