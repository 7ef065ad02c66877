//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/e2e/argocd"
	"github.com/unsilo/unsilo/e2e/controlplane"
	"github.com/unsilo/unsilo/e2e/fakeaws"
)

// knownDefects are checks that fail on this tree for a defect another
// issue owns; the check still runs and must still fail (so the entry is
// removed once the defect is fixed).
var knownDefects = map[string]string{}

// defect reports a failed check, or for a known defect that it still
// holds; a known defect that no longer fails is an error too.
func defect(t *testing.T, name string, failed bool, msg string) {
	t.Helper()
	why, known := knownDefects[name]
	switch {
	case failed && known:
		t.Logf("known defect %q (%s): %s", name, why, msg)
	case failed:
		t.Errorf("%s: %s", name, msg)
	case known:
		t.Errorf("%s passes now: remove it from knownDefects (%s)", name, why)
	}
}

// composedOf lists an XR's composed resources of one kind.
func composedOf(ctx context.Context, c *controlplane.Client, x xr, apiVersion, kind string) []unstructured.Unstructured {
	all, err := c.List(ctx, apiVersion, kind)
	if err != nil {
		return nil
	}
	var out []unstructured.Unstructured
	for _, u := range all {
		if u.GetNamespace() == x.u.GetNamespace() && u.GetLabels()["crossplane.io/composite"] == x.u.GetName() {
			out = append(out, u)
		}
	}
	return out
}

func messages(u *unstructured.Unstructured) string {
	if u == nil {
		return "(cannot be read)"
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var out []string
	for _, c := range conds {
		m, _ := c.(map[string]any)
		out = append(out, fmt.Sprintf("%v=%v %v: %v", m["type"], m["status"], m["reason"], m["message"]))
	}
	return strings.Join(out, "; ")
}

// checkFault: AccessDenied on one bucket shows on the managed resource,
// the XR and the team's Application with AWS's message, and clears when
// the fault is lifted.
func checkFault(t *testing.T, ctx context.Context, r *rig, x xr) {
	const code, msg = "AccessDenied", "Access Denied"
	m := fakeaws.Match{Kind: "Bucket", Composite: x.u.GetName()}
	r.aws.Inject(m, fakeaws.Fault{Code: code, Message: msg, Status: 403})
	var mr string
	if !controlplane.Poll(ctx, time.Minute, func() bool {
		for _, b := range composedOf(ctx, r.c, x, "s3.aws.m.upbound.io/v1beta1", "Bucket") {
			if s, m := condition(&b, "Synced"); s == "False" && strings.Contains(m, "api error "+code+": "+msg) {
				mr = m
				return true
			}
		}
		return false
	}) {
		t.Fatalf("%s: no Bucket reported Synced=False with the AWS error within a minute", x.id())
	}
	t.Logf("the managed resource says: %s", mr)

	app := "team-" + x.u.GetNamespace()
	var xrMsg, appMsg string
	onXR := controlplane.Poll(ctx, time.Minute, func() bool {
		u, err := r.c.Get(ctx, x.u.GetAPIVersion(), x.u.GetKind(), x.u.GetNamespace(), x.u.GetName())
		if err != nil {
			return false
		}
		xrMsg = messages(u)
		return strings.Contains(xrMsg, code)
	})
	defect(t, "AWS error on the XR", !onXR, fmt.Sprintf("%s conditions never carried %s: %s", x.id(), code, xrMsg))
	inArgo := controlplane.Poll(ctx, 30*time.Second, func() bool {
		a, err := r.c.Get(ctx, "argoproj.io/v1alpha1", "Application", argocd.Namespace, app)
		if err != nil {
			return false
		}
		s := argocd.StatusOf(a)
		appMsg = s.String()
		return s.Health != "Healthy" && strings.Contains(appMsg, code)
	})
	defect(t, "AWS error in Argo CD health", !inArgo, fmt.Sprintf("Application %s never showed %s: %s", app, code, appMsg))

	r.aws.Lift(m)
	if !controlplane.Poll(ctx, 2*time.Minute, func() bool {
		for _, b := range composedOf(ctx, r.c, x, "s3.aws.m.upbound.io/v1beta1", "Bucket") {
			if s, _ := condition(&b, "Synced"); s != "True" {
				return false
			}
		}
		u, err := r.c.Get(ctx, x.u.GetAPIVersion(), x.u.GetKind(), x.u.GetNamespace(), x.u.GetName())
		if err != nil {
			return false
		}
		s, _ := condition(u, "Ready")
		return s == "True"
	}) {
		t.Errorf("%s and its buckets did not recover within 2 minutes of lifting the fault", x.id())
	}
}

// checkPrune: a commit removes claims. Argo CD keeps them (the teams
// ApplicationSet marks every claim Prune=false,Delete=false) and reports
// them as requiring pruning, and AWS keeps every resource. Deleting them
// then, as a platform admin does after review (clusters/README.md),
// deletes their AWS resources but the ones composed with deletionPolicy
// Orphan, each used resource after its user (the Usages).
func checkPrune(t *testing.T, ctx context.Context, r *rig, team string, files []string, gone []xr) {
	type usage struct{ of, by string }
	var usages []usage
	kept := map[string]bool{} // composition resource names AWS must keep
	var all []*unstructured.Unstructured
	for _, x := range gone {
		for _, u := range composedOf(ctx, r.c, x, "protection.crossplane.io/v1beta1", "Usage") {
			// Ready: Crossplane resolved both ends and labelled the used
			// one in-use, which its webhook then guards.
			if s, msg := condition(&u, "Ready"); s != "True" {
				t.Errorf("Usage %s/%s is not Ready (%s %q): Crossplane does not hold back what it protects", u.GetNamespace(), u.GetName(), s, msg)
			}
			of, _, _ := unstructured.NestedString(u.Object, "spec", "of", "resourceSelector", "matchLabels", "platform.unsilo.dev/component")
			by, _, _ := unstructured.NestedString(u.Object, "spec", "by", "resourceSelector", "matchLabels", "platform.unsilo.dev/component")
			usages = append(usages, usage{of, by})
		}
		cs := composed(t, ctx, r.c, x)
		all = append(all, cs...)
		for _, c := range cs {
			if p, _, _ := unstructured.NestedString(c.Object, "spec", "deletionPolicy"); p == "Orphan" {
				kept[c.GetAnnotations()["crossplane.io/composition-resource-name"]] = true
			}
		}
	}
	rev, err := r.repo.Commit(ctx, t.TempDir(), "Remove "+strings.Join(files, ", ")+" from "+team, func(wt string) error {
		k := filepath.Join(wt, "teams", team, "dev", "kustomization.yaml")
		b, err := os.ReadFile(k)
		if err != nil {
			return err
		}
		s := string(b)
		for _, f := range files {
			s = strings.ReplaceAll(s, "  - "+f+"\n", "")
			if err := os.Remove(filepath.Join(wt, "teams", team, "dev", f)); err != nil {
				return err
			}
		}
		return os.WriteFile(k, []byte(s), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	// dev's release follows main and pins every child to the commit it
	// resolves, the teams ApplicationSet included: the commit reaches the
	// team's Application through the release.
	app := "team-" + team
	refresh(t, ctx, r.c, "release")
	var a *unstructured.Unstructured
	if !controlplane.Poll(ctx, 5*time.Minute, func() bool {
		got, err := r.c.Get(ctx, "argoproj.io/v1alpha1", "Application", argocd.Namespace, app)
		if err != nil {
			return false
		}
		a = got
		phase, _, _ := unstructured.NestedString(a.Object, "status", "operationState", "phase")
		synced, _, _ := unstructured.NestedString(a.Object, "status", "operationState", "syncResult", "revision")
		return synced == rev && phase == "Succeeded"
	}) {
		last := "not found"
		if a != nil {
			last = argocd.StatusOf(a).String()
		}
		t.Fatalf("Argo CD did not sync %s at %s within 5 minutes: %s", app, rev, last)
	}
	for _, x := range gone {
		if _, err := r.c.Get(ctx, x.u.GetAPIVersion(), x.u.GetKind(), x.u.GetNamespace(), x.u.GetName()); err != nil {
			t.Errorf("%s: Argo CD deleted a claim marked Prune=false: %v", x.id(), err)
		}
		if !requiresPruning(a, x) {
			t.Errorf("%s: Application %s does not show it as requiring pruning", x.id(), app)
		}
	}
	for _, op := range r.aws.Ops() {
		for _, x := range gone {
			if op.Composite == x.u.GetName() && op.Verb == "delete" {
				t.Errorf("%s: AWS deleted %s after the commit removing its claim", x.id(), op.Resource)
			}
		}
	}

	// Users first (gone lists them so). A claim another uses (the portal's
	// Network) is refused by Crossplane's Usage webhook until its user is
	// gone: retried, as an admin re-running kubectl delete would.
	for _, x := range gone {
		var err error
		refused := 0
		if !controlplane.Poll(ctx, 5*time.Minute, func() bool {
			err = r.c.Delete(ctx, x.u.GetAPIVersion(), x.u.GetKind(), x.u.GetNamespace(), x.u.GetName())
			if err != nil && strings.Contains(err.Error(), "nousages.protection.crossplane.io") {
				refused++
				return false
			}
			return err == nil || apierrors.IsNotFound(err)
		}) {
			t.Fatalf("kubectl delete %s: %v", x.id(), err)
		}
		if refused > 0 {
			t.Logf("kubectl delete %s: refused %d times while a Usage held it (%v), then accepted", x.id(), refused, err)
		}
	}
	for _, x := range gone {
		if !controlplane.Poll(ctx, 5*time.Minute, func() bool {
			_, err := r.c.Get(ctx, x.u.GetAPIVersion(), x.u.GetKind(), x.u.GetNamespace(), x.u.GetName())
			return apierrors.IsNotFound(err)
		}) {
			u, _ := r.c.Get(ctx, x.u.GetAPIVersion(), x.u.GetKind(), x.u.GetNamespace(), x.u.GetName())
			t.Errorf("%s still exists 5 minutes after it was deleted: %s", x.id(), messages(u))
		}
	}
	// kubectl deletes in the background: the XR goes first, the garbage
	// collector then deletes what it composed, each through the provider.
	for _, c := range all {
		if !controlplane.Poll(ctx, 5*time.Minute, func() bool {
			_, err := r.c.Get(ctx, c.GetAPIVersion(), c.GetKind(), c.GetNamespace(), c.GetName())
			return apierrors.IsNotFound(err)
		}) {
			u, _ := r.c.Get(ctx, c.GetAPIVersion(), c.GetKind(), c.GetNamespace(), c.GetName())
			t.Errorf("%s %s/%s still exists 5 minutes after its XR was deleted: %s", c.GetKind(), c.GetNamespace(), c.GetName(), messages(u))
		}
	}
	deleted := map[string]time.Time{}
	created := map[string]bool{}
	for _, op := range r.aws.Ops() {
		for _, x := range gone {
			if op.Composite != x.u.GetName() {
				continue
			}
			switch op.Verb {
			case "create":
				created[op.Resource] = true
			case "delete":
				deleted[op.Resource] = op.At
			}
		}
	}
	for res := range created {
		_, ok := deleted[res]
		switch {
		case !ok && !kept[res]:
			t.Errorf("%s was created in AWS and never deleted", res)
		case ok && kept[res]:
			t.Errorf("%s has deletionPolicy Orphan, yet AWS deleted it", res)
		}
	}
	var wrong []string
	seen := map[usage]bool{}
	for _, u := range usages {
		of, ofGone := deleted[u.of]
		by, byGone := deleted[u.by]
		if !seen[u] && ofGone && byGone && by.After(of) {
			wrong = append(wrong, fmt.Sprintf("%s uses %s, but AWS deleted %s first (%s before %s)", u.by, u.of, u.of,
				of.Format(time.StampMilli), by.Format(time.StampMilli)))
		}
		seen[u] = true
	}
	// Crossplane's validating webhook refuses to delete a used resource
	// until its user is gone (the API server reaches it through the proxy).
	if len(wrong) > 0 {
		t.Errorf("%d of %d Usages saw what they protect deleted first:\n%s", len(wrong), len(seen), strings.Join(wrong, "\n"))
	}
	t.Logf("%d resources deleted in AWS, %d kept (deletionPolicy Orphan); every one of %d Usages' used resource outlived its user",
		len(deleted), len(kept), len(seen))
}

// composed reads every resource Crossplane composed for an XR.
func composed(t *testing.T, ctx context.Context, c *controlplane.Client, x xr) []*unstructured.Unstructured {
	t.Helper()
	u, err := c.Get(ctx, x.u.GetAPIVersion(), x.u.GetKind(), x.u.GetNamespace(), x.u.GetName())
	if err != nil {
		t.Fatalf("%s: %v", x.id(), err)
	}
	refs, _, _ := unstructured.NestedSlice(u.Object, "spec", "crossplane", "resourceRefs")
	var out []*unstructured.Unstructured
	for _, ref := range refs {
		m, _ := ref.(map[string]any)
		ns := x.u.GetNamespace()
		if n, ok := m["namespace"].(string); ok {
			ns = n
		}
		o, err := c.Get(ctx, fmt.Sprint(m["apiVersion"]), fmt.Sprint(m["kind"]), ns, fmt.Sprint(m["name"]))
		if err != nil {
			t.Errorf("%s composed %v %v that cannot be read: %v", x.id(), m["kind"], m["name"], err)
			continue
		}
		out = append(out, o)
	}
	return out
}

// requiresPruning: Argo CD lists the XR among the Application's resources
// as no longer in git.
func requiresPruning(app *unstructured.Unstructured, x xr) bool {
	rs, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	for _, r := range rs {
		m, _ := r.(map[string]any)
		if m["kind"] == x.u.GetKind() && m["namespace"] == x.u.GetNamespace() && m["name"] == x.u.GetName() {
			p, _ := m["requiresPruning"].(bool)
			return p
		}
	}
	return false
}

// refresh asks Argo CD to re-read git now, as a push webhook does.
func refresh(t *testing.T, ctx context.Context, c *controlplane.Client, app string) {
	t.Helper()
	a, err := c.Get(ctx, "argoproj.io/v1alpha1", "Application", argocd.Namespace, app)
	if err != nil {
		t.Fatal(err)
	}
	p := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": a.GetName(), "namespace": a.GetNamespace(), "annotations": map[string]any{"argocd.argoproj.io/refresh": "hard"}}}}
	if err := c.Apply(ctx, p, false); err != nil {
		t.Fatal(err)
	}
}
