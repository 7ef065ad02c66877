//go:build e2e

// Package e2e checks the repo against a real Kubernetes API server and
// Crossplane core running on loopback (make e2e builds and caches them).
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/unsilo/unsilo/e2e/controlplane"
	"github.com/unsilo/unsilo/functions/server"
	"github.com/unsilo/unsilo/internal/argo"
	"github.com/unsilo/unsilo/internal/catalog"
	"github.com/unsilo/unsilo/internal/crds"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
	unschema "github.com/unsilo/unsilo/internal/schema"
	"github.com/unsilo/unsilo/internal/team"
)

const root = ".."

// object is something to dry-run, with where it came from.
type object struct {
	u     *unstructured.Unstructured
	where string
}

func wave(u *unstructured.Unstructured) int {
	w, err := strconv.Atoi(u.GetAnnotations()["argocd.argoproj.io/sync-wave"])
	if err != nil {
		return 0
	}
	return w
}

func TestManifestsAgainstTheRealAPIServer(t *testing.T) {
	bins := controlplane.Binaries{Etcd: os.Getenv("ETCD_BIN"), APIServer: os.Getenv("KUBE_APISERVER_BIN"), Crossplane: os.Getenv("CROSSPLANE_CORE_BIN")}
	if bins.Etcd == "" || bins.APIServer == "" || bins.Crossplane == "" {
		t.Fatal("set ETCD_BIN, KUBE_APISERVER_BIN and CROSSPLANE_CORE_BIN (make e2e does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	start := time.Now()
	cp, err := controlplane.Start(ctx, log, bins, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()
	t.Logf("API server ready in %s", time.Since(start).Round(time.Millisecond))

	dirs := map[string]string{}
	v := unschema.New()
	for _, s := range crds.Sources {
		d, err := crds.Locate(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		dirs[s.Name] = d
		if err := v.AddCRDDir(d); err != nil {
			t.Fatal(err)
		}
	}
	xpStart := time.Now()
	if err := cp.StartCrossplane(ctx, bins.Crossplane, dirs["crossplane"], 0, nil); err != nil {
		t.Fatalf("%v\n%s", err, cp.Log("crossplane"))
	}
	t.Logf("Crossplane core started in %s", time.Since(xpStart).Round(time.Millisecond))
	c, err := cp.NewClient()
	if err != nil {
		t.Fatal(err)
	}

	objs, pinned, failures := gather(t, ctx)
	applyCRDs(t, ctx, c, v, objs)
	applyAPIs(t, ctx, c, cp)
	createNamespaces(t, ctx, c, objs)

	sort.SliceStable(objs, func(i, j int) bool { return wave(objs[i].u) < wave(objs[j].u) })
	for _, o := range objs {
		if err := c.Apply(ctx, o.u, true); err != nil {
			failures = append(failures, fmt.Sprintf("%s: %s: %v", o.where, manifest.ID(o.u), err))
		}
	}
	t.Logf("dry-ran %d objects in sync-wave order", len(objs))
	// An environment pinned to another commit runs that commit's APIs and
	// function; this API server has this tree's, and the function is this
	// tree's, so what fails there is reported per environment: a pin this
	// tree cannot compose is a failure unless listed in knownDefects.
	byEnv := map[string][]string{}
	for _, f := range failures {
		env, _, _ := strings.Cut(f, ": ")
		if _, ok := pinned[env]; !ok {
			env = ""
		}
		byEnv[env] = append(byEnv[env], f)
	}
	if len(byEnv[""]) > 0 {
		t.Errorf("the API server refused %d objects:\n%s", len(byEnv[""]), strings.Join(byEnv[""], "\n"))
	}
	for env, commit := range pinned {
		defect(t, env+" at its pinned release agrees with this tree's APIs", len(byEnv[env]) > 0,
			fmt.Sprintf("%s's release pins %s; %d objects refused or not composed:\n%s", env, commit[:12], len(byEnv[env]), strings.Join(byEnv[env], "\n")))
	}

	// The same path must refuse what it should: an XR breaking its XRD.
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "platform.unsilo.dev/v1alpha1", "kind": "Network",
		"metadata": map[string]any{"name": "one-zone", "namespace": "default"},
		"spec":     map[string]any{"region": "ap-northeast-2", "cidr": "10.0.1.0/16", "azCount": int64(1), "flowLogs": map[string]any{"destinationArn": "arn:aws:s3:::lake-raw/x/"}},
	}}
	err = c.Apply(ctx, bad, true)
	if err == nil || !strings.Contains(err.Error(), "azCount") || !strings.Contains(err.Error(), "must not have host bits set") {
		t.Errorf("a Network with azCount 1 and host bits set must be refused with the XRD's messages, got %v", err)
	}
}

// gather collects what Argo CD would apply (both trees of every
// environment, its cluster's and its management cluster's, each
// Application built at the revision its release names, as unsilo verify
// follows it) and what Crossplane would create (every XR's converged
// composed resources, XRs of an environment seeing each other). It returns
// the environments whose release pins another commit than this tree's,
// and the XRs that could not be composed.
func gather(t *testing.T, ctx context.Context) ([]object, map[string]string, []string) {
	t.Helper()
	var out []object
	var failures []string
	pinned := map[string]string{}
	repo, err := argo.NewRepo(ctx, root, team.RepoURL, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	envs, err := team.Environments(root)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	var xrs []object
	for _, env := range envs {
		for _, dir := range argo.Trees(root, env) {
			apps, err := repo.Tree(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range apps {
				if a.Err != nil {
					t.Fatalf("%s: %s: %v", dir, a.Chain(), a.Err)
				}
				if a.Name() == "release" && a.Dir != repo.Root {
					pinned[env] = a.Commit
				}
				for _, u := range a.Objects {
					o := object{u, env + ": " + dir + ": " + a.Chain()}
					out = append(out, o)
					if cat.IsXR(u) {
						xrs = append(xrs, o)
					}
				}
			}
		}
	}
	fn, err := server.New(slog.New(slog.NewTextHandler(io.Discard, nil)), server.APIs()...)
	if err != nil {
		t.Fatal(err)
	}
	files, err := cat.Examples()
	if err != nil {
		t.Fatal(err)
	}
	worlds := map[string][]unstructured.Unstructured{}
	for _, f := range files {
		us, err := manifest.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range us {
			worlds[f] = append(worlds[f], *x.Unstructured)
			if cat.IsXR(x.Unstructured) {
				xrs = append(xrs, object{x.Unstructured, f})
			}
		}
	}
	// Examples stand alone but for the platform's own Network and Cluster,
	// which they name as their control plane; environments name theirs
	// with its account (settings) and need nothing fetched.
	platform, err := catalog.Platform(root)
	if err != nil {
		t.Fatal(err)
	}
	catalog.AddPlatform(worlds, platform)
	for _, x := range xrs {
		if env, _, ok := strings.Cut(x.where, ": "); ok { // synced: the world is its environment
			worlds[env] = append(worlds[env], *x.u)
		}
	}
	for _, x := range xrs {
		world := worlds[x.where]
		if env, _, ok := strings.Cut(x.where, ": "); ok {
			world = worlds[env]
		}
		r, err := render.Converge(ctx, fn, render.Input{XR: x.u, Available: world})
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %s: not composed: %v", x.where, manifest.ID(x.u), err))
			continue
		}
		for i := range r.Composed {
			cd := r.Composed[i]
			cd.SetOwnerReferences(nil) // the owner XR is not created by a dry run
			out = append(out, object{&cd, x.where + " -> " + cd.GetAnnotations()[render.AnnotationResourceName]})
		}
	}
	return out, pinned, failures
}

// applyCRDs installs the CRDs of every kind the objects use, as the
// providers and Argo CD would.
func applyCRDs(t *testing.T, ctx context.Context, c *controlplane.Client, v *unschema.Validator, objs []object) {
	t.Helper()
	seen := map[schema.GroupKind]bool{}
	for _, o := range objs {
		gk := o.u.GroupVersionKind().GroupKind()
		// Built-in groups have no dot (apps, batch, policy) or end in k8s.io.
		builtin := !strings.Contains(gk.Group, ".") || strings.HasSuffix(gk.Group, "k8s.io")
		if seen[gk] || builtin || strings.HasSuffix(gk.Group, "crossplane.io") || gk.Group == "platform.unsilo.dev" {
			continue
		}
		seen[gk] = true
		crd, err := v.CRD(gk)
		if err != nil {
			t.Fatalf("%s uses %s: %v", o.where, gk, err)
		}
		u := &unstructured.Unstructured{}
		b, _ := json.Marshal(crd)
		if err := u.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
		u.SetAPIVersion("apiextensions.k8s.io/v1")
		u.SetKind("CustomResourceDefinition")
		if err := c.Apply(ctx, u, false); err != nil {
			t.Fatalf("CRD %s: %v", crd.Name, err)
		}
		if err := c.WaitEstablished(ctx, crd.Name, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("installed %d provider and Argo CD CRDs", len(seen))
}

// applyAPIs creates the XRDs and Compositions for real; Crossplane turns
// each XRD into a CRD.
func applyAPIs(t *testing.T, ctx context.Context, c *controlplane.Client, cp *controlplane.ControlPlane) {
	t.Helper()
	cat, err := catalog.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cat.APIs {
		for _, o := range []manifest.Object{a.XRD, a.Composition} {
			if err := c.Apply(ctx, o.Unstructured, false); err != nil {
				t.Fatalf("%s: %v", o.Where(), err)
			}
		}
	}
	for _, a := range cat.APIs {
		if err := c.WaitEstablished(ctx, a.XRD.GetName(), 30*time.Second); err != nil {
			xrd, gerr := c.Get(ctx, a.XRD.GetAPIVersion(), a.XRD.GetKind(), "", a.XRD.GetName())
			status := fmt.Sprint(gerr)
			if gerr == nil {
				b, _ := json.Marshal(xrd.Object["status"])
				status = string(b)
			}
			t.Fatalf("Crossplane did not serve %s: %v\nXRD status: %s\ncrossplane log:\n%s", a.Kind, err, status, cp.Log("crossplane"))
		}
	}
}

func createNamespaces(t *testing.T, ctx context.Context, c *controlplane.Client, objs []object) {
	t.Helper()
	seen := map[string]bool{"default": true}
	for _, o := range objs {
		ns := o.u.GetNamespace()
		if ns == "" || seen[ns] {
			continue
		}
		seen[ns] = true
		n := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
		if err := c.Apply(ctx, n, false); err != nil {
			t.Fatal(err)
		}
	}
}
