//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/e2e/argocd"
	"github.com/unsilo/unsilo/e2e/controlplane"
	"github.com/unsilo/unsilo/e2e/fakeaws"
	"github.com/unsilo/unsilo/internal/argo"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/team"
)

const prodRelease = "clusters/prod/release/release.yaml"

// checkPromotion: a commit that changes only prod's pin, to the commit dev
// runs (clusters/README.md: a one-line pull request). Dev follows main, so
// its Applications reconcile the new commit, and nothing they manage
// changes but the revision the release stamps on its children; AWS sees
// nothing. Prod is not brought up here: both of its trees, expanded from
// the new main as `unsilo verify` does, sync exactly the pinned commit's
// tree, object for object.
func checkPromotion(t *testing.T, ctx context.Context, r *rig) {
	rel, err := r.c.Get(ctx, "argoproj.io/v1alpha1", "Application", argocd.Namespace, "release")
	if err != nil {
		t.Fatal(err)
	}
	pin := argocd.Revision(rel) // what dev runs
	before := managedObjects(t, ctx, r)
	ops := len(r.aws.Ops())
	scratch := t.TempDir()
	rev, err := r.repo.Commit(ctx, scratch, "Promote prod to "+pin[:12], func(wt string) error { return setPin(wt, pin) })
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"root", "release", "management-root", "management-release"} {
		refresh(t, ctx, r.c, a) // as the push webhook would
	}

	// Every Application of this repository reconciles the new main.
	var behind []string
	if !controlplane.Poll(ctx, 5*time.Minute, func() bool {
		behind = nil
		for _, a := range ours(t, ctx, r) {
			if s := argocd.StatusOf(&a); argocd.Revision(&a) != rev || !argocd.SyncedAndHealthy(s) {
				behind = append(behind, fmt.Sprintf("%s at %.12s: %s", a.GetName(), argocd.Revision(&a), s))
			}
		}
		return len(behind) == 0
	}) {
		t.Fatalf("dev did not reconcile %.12s within 5 minutes:\n%s", rev, strings.Join(behind, "\n"))
	}
	t.Logf("dev reconciled the promotion commit %.12s (prod pinned to %.12s)", rev, pin)

	after := managedObjects(t, ctx, r)
	var changed []string
	for id, b := range before {
		a, ok := after[id]
		switch {
		case !ok:
			changed = append(changed, "- "+id+": no longer managed")
		case !reflect.DeepEqual(revisionless(b, pin), revisionless(a, rev)):
			changed = append(changed, "~ "+id+": "+firstDiff("", revisionless(b, pin), revisionless(a, rev)))
		}
	}
	for id := range after {
		if _, ok := before[id]; !ok {
			changed = append(changed, "+ "+id+": newly managed")
		}
	}
	sort.Strings(changed)
	if len(changed) > 0 {
		t.Errorf("promoting prod changed what dev manages (beyond the revision %.12s -> %.12s):\n%s", pin, rev, strings.Join(changed, "\n"))
	}
	checkNoNewAWSCalls(t, r.aws.Ops(), ops)
	t.Logf("dev: %d managed objects unchanged but for the revision", len(before))

	checkProdTrees(t, ctx, filepath.Join(scratch, "worktree"), r.repo.Dir(), pin, rev)
}

// checkNoNewAWSCalls: after ops[from:] (the promotion) AWS created and
// deleted nothing, and updated only resources it was already updating
// before the commit without any change in git (the simulated provider's
// steady reconcile, counted in the log).
func checkNoNewAWSCalls(t *testing.T, ops []fakeaws.Op, from int) {
	t.Helper()
	steady := map[string]bool{}
	cutoff := time.Now().Add(-5 * time.Minute)
	for _, op := range ops[:from] {
		if op.Verb == "update" && op.At.After(cutoff) {
			steady[op.Kind+" "+op.Name] = true
		}
	}
	var updates int
	for _, op := range ops[from:] {
		switch {
		case op.Verb == "update" && steady[op.Kind+" "+op.Name]:
			updates++
		default:
			t.Errorf("promoting prod made AWS %s %s %s (composed for %s)", op.Verb, op.Kind, op.Name, op.Composite)
		}
	}
	t.Logf("AWS during the promotion: no create or delete; %d updates, all of the %d resources it was updating in the 5 minutes before the check", updates, len(steady))
}

// setPin rewrites the one targetRevision of prod's release.
func setPin(wt, pin string) error {
	f := filepath.Join(wt, prodRelease)
	b, err := os.ReadFile(f)
	if err != nil {
		return err
	}
	re := regexp.MustCompile(`(?m)^(\s+targetRevision:\s*)\S+$`)
	if n := len(re.FindAll(b, -1)); n != 1 {
		return fmt.Errorf("%s: %d targetRevision lines, want 1", prodRelease, n)
	}
	return os.WriteFile(f, re.ReplaceAll(b, []byte("${1}"+pin)), 0o644)
}

// ours lists the Applications that sync this repository (not remote charts).
func ours(t *testing.T, ctx context.Context, r *rig) []unstructured.Unstructured {
	t.Helper()
	apps, err := r.c.List(ctx, "argoproj.io/v1alpha1", "Application")
	if err != nil {
		t.Fatal(err)
	}
	var out []unstructured.Unstructured
	for _, a := range apps {
		if url, _, _ := unstructured.NestedString(a.Object, "spec", "source", "repoURL"); url == team.RepoURL {
			out = append(out, a)
		}
	}
	return out
}

// managedObjects reads every object an Application of dev manages (its
// status.resources), keyed by Application and object.
func managedObjects(t *testing.T, ctx context.Context, r *rig) map[string]map[string]any {
	t.Helper()
	apps, err := r.c.List(ctx, "argoproj.io/v1alpha1", "Application")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, a := range apps {
		rs, _, _ := unstructured.NestedSlice(a.Object, "status", "resources")
		for _, res := range rs {
			m, _ := res.(map[string]any)
			s := func(k string) string { v, _ := m[k].(string); return v }
			api := s("version")
			if s("group") != "" {
				api = s("group") + "/" + api
			}
			id := fmt.Sprintf("%s: %s %s/%s", a.GetName(), s("kind"), s("namespace"), s("name"))
			u, err := r.c.Get(ctx, api, s("kind"), s("namespace"), s("name"))
			if err != nil {
				continue // requiring pruning and gone, or not yet created: absent both times or reported
			}
			out[id] = u.Object
		}
	}
	return out
}

// revisionless is what of an object a promotion must not change: all but
// its status, Argo CD's sync operation and refresh request, and the
// server's bookkeeping, with the commit dev runs written as <revision>.
func revisionless(obj map[string]any, rev string) any {
	u := (&unstructured.Unstructured{Object: obj}).DeepCopy()
	delete(u.Object, "status")
	delete(u.Object, "operation")
	for _, f := range []string{"resourceVersion", "managedFields", "generation"} {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(u.Object, "metadata", "annotations", "argocd.argoproj.io/refresh")
	b, _ := json.Marshal(u.Object)
	var out any
	_ = json.Unmarshal([]byte(strings.ReplaceAll(string(b), rev, "<revision>")), &out)
	return out
}

// firstDiff names the first path where a and b differ, for messages.
func firstDiff(path string, a, b any) string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		return fmt.Sprintf("%s: %v -> %v", path, a, b)
	}
	keys := map[string]bool{}
	for k := range am {
		keys[k] = true
	}
	for k := range bm {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if !reflect.DeepEqual(am[k], bm[k]) {
			return firstDiff(path+"."+k, am[k], bm[k])
		}
	}
	return path
}

// checkProdTrees: prod's trees at the promotion commit (main, which the
// roots follow) sync, below the root, exactly what the release expands to
// in a checkout of the pinned commit: every Application of this
// repository at the pin, object for object.
func checkProdTrees(t *testing.T, ctx context.Context, promoted, bare, pin, rev string) {
	main, err := argo.NewRepo(ctx, promoted, team.RepoURL, "main")
	if err != nil {
		t.Fatal(err)
	}
	defer main.Close()
	if on, err := main.OnMain(ctx, pin); err != nil || !on {
		t.Errorf("the pin %.12s is not on main's history (%v): unsilo verify refuses it", pin, err)
	}
	pinned := filepath.Join(t.TempDir(), "pinned")
	for _, args := range [][]string{{"clone", "--quiet", bare, pinned}, {"-C", pinned, "checkout", "--quiet", "--detach", pin}} {
		if out, err := exec.CommandContext(ctx, "git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	at, err := argo.NewRepo(ctx, pinned, team.RepoURL, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	defer at.Close()
	for _, dir := range argo.Trees(promoted, "prod") {
		got, err := main.Tree(ctx, dir)
		if err != nil {
			t.Fatalf("%s at %.12s: %v", dir, rev, err)
		}
		if got[0].Commit != rev {
			t.Errorf("%s: the root syncs %.12s, not main (%.12s): the promotion would not reach prod", dir, got[0].Commit, rev)
		}
		var release *argo.App
		for _, a := range got {
			if a.Name() == "release" {
				release = a
			}
		}
		if release == nil {
			t.Fatalf("%s at %.12s holds no release", dir, rev)
		}
		want, err := at.Expand(ctx, release.Object)
		if err != nil {
			t.Fatal(err)
		}
		if diff := treeDiff(got[1:], want); diff != "" {
			t.Errorf("%s at %.12s does not sync the pinned tree %.12s:\n%s", dir, rev, pin, diff)
			continue
		}
		t.Logf("prod: %s at the promotion commit syncs the tree of %.12s (%d Applications below the root)", dir, pin, len(want))
	}
}

// treeDiff compares two expansions Application by Application: the same
// names, the same commit for this repository's, the same objects.
func treeDiff(got, want []*argo.App) string {
	var out []string
	byName := map[string]*argo.App{}
	for _, a := range want {
		byName[a.Name()] = a
	}
	for _, g := range got {
		w, ok := byName[g.Name()]
		delete(byName, g.Name())
		switch {
		case !ok:
			out = append(out, "+ "+g.Chain()+": not in the pinned tree")
		case g.Err != nil || w.Err != nil:
			out = append(out, fmt.Sprintf("! %s: %v / %v", g.Chain(), g.Err, w.Err))
		case g.Commit != w.Commit:
			out = append(out, fmt.Sprintf("~ %s: at %.12s, not %.12s", g.Chain(), g.Commit, w.Commit))
		default:
			out = append(out, objectsDiff(g.Chain(), g.Objects, w.Objects)...)
		}
	}
	for n := range byName {
		out = append(out, "- "+n+": in the pinned tree, not synced")
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func objectsDiff(app string, got, want []*unstructured.Unstructured) []string {
	w := map[string]*unstructured.Unstructured{}
	for _, u := range want {
		w[manifest.ID(u)] = u
	}
	var out []string
	for _, g := range got {
		id := manifest.ID(g)
		switch x, ok := w[id]; {
		case !ok:
			out = append(out, "+ "+app+": "+id)
		case !reflect.DeepEqual(g.Object, x.Object):
			out = append(out, "~ "+app+": "+id+": "+firstDiff("", x.Object, g.Object))
		}
		delete(w, id)
	}
	for id := range w {
		out = append(out, "- "+app+": "+id)
	}
	return out
}
