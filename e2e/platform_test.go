//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/e2e/argocd"
	"github.com/unsilo/unsilo/e2e/controlplane"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/verify"
)

// knownFailing are Applications that cannot become Healthy on this tree
// for a defect another issue owns. The test asserts they still fail, so
// the list shrinks as those land.
var knownFailing = map[string]string{}

// statusFields are the XR status fields the README promises per API.
var statusFields = map[string][]string{
	"Network":       {"vpcId", "publicSubnetIds", "privateSubnetIds", "endpointSecurityGroupId"},
	"StaticSite":    {"bucketName", "distributionDomainName", "distributionId"},
	"WebPortal":     {"albDnsName", "databaseEndpoint", "autoscalingGroupName"},
	"KnowledgeBase": {"indexId", "indexArn", "ragApiRoleArn"},
	"DataLake":      {"rawBucket", "curatedBucket", "firehoseArn", "databaseName", "workgroup"},
	"Cluster":       {"clusterName", "endpoint", "oidcIssuer", "kubeconfigSecret"},
}

// xr is one composite resource Argo CD syncs, with what `unsilo plan`
// converges it to (composition resource name -> kind).
type xr struct {
	u    *unstructured.Unstructured
	plan map[string]string
}

func (x xr) id() string { return x.u.GetKind() + " " + x.u.GetNamespace() + "/" + x.u.GetName() }

func TestPlatformComesUpOnOneMachine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	tr := expand(t, ctx)
	xrs := tr.xrs
	r := startRig(t, ctx, log, tr)
	peak := samplePeak(ctx, r.cp)
	defer func() { t.Logf("peak memory (every rig process and the test): %d MiB", peak()/(1<<20)) }()

	first := time.Now()
	// The README's bootstrap: Argo CD's settings and the platform
	// AppProject (which every root names), then each cluster's root.
	bootstrap(t, ctx, r.c, "platform/argocd/config")
	for _, o := range overlays {
		bootstrap(t, ctx, r.c, o.dir)
	}
	// Measured: 15m22s at load average 19-20 with strict wave order; the
	// bound leaves room for a busy machine, not for a hang.
	healthy := waitApplications(t, ctx, r, tr.apps, 30*time.Minute)
	t.Logf("dev: every Application Synced and Healthy %s after bootstrap", time.Since(first).Round(time.Second))

	t.Run("sync waves order the children", func(t *testing.T) { checkWaves(t, ctx, r.c, healthy) })
	t.Run("every XR Ready with its status", func(t *testing.T) {
		// Teams' Applications are Healthy only once their XRs are Ready, so
		// this waits only for the known failures' (bounded).
		for _, x := range xrs {
			controlplane.Poll(ctx, 2*time.Minute, func() bool {
				u, err := r.c.Get(ctx, x.u.GetAPIVersion(), x.u.GetKind(), x.u.GetNamespace(), x.u.GetName())
				if err != nil {
					return false
				}
				s, _ := condition(u, "Ready")
				return s == "True"
			})
			checkXR(t, ctx, r.c, x)
		}
		t.Logf("dev: every XR Ready %s after bootstrap", time.Since(first).Round(time.Second))
	})
	t.Run("Crossplane composed what unsilo plan converges to", func(t *testing.T) {
		for _, x := range xrs {
			checkComposed(t, ctx, r.c, x)
		}
	})
	t.Run("an AWS failure shows and clears", func(t *testing.T) { checkFault(t, ctx, r, find(t, xrs, "StaticSite", "example-team", "shop-site")) })
	t.Run("a commit promoting prod changes only prod, to exactly the pinned tree", func(t *testing.T) { checkPromotion(t, ctx, r) })
	t.Run("a commit removing claims keeps them; deleting them deletes their AWS resources", func(t *testing.T) {
		checkPrune(t, ctx, r, "example-team", []string{"portal.yaml", "network.yaml"},
			[]xr{find(t, xrs, "WebPortal", "example-team", "shop"), find(t, xrs, "Network", "example-team", "shop")})
	})
}

func find(t *testing.T, xrs []xr, kind, ns, name string) xr {
	t.Helper()
	for _, x := range xrs {
		if x.u.GetKind() == kind && x.u.GetNamespace() == ns && x.u.GetName() == name {
			return x
		}
	}
	t.Fatalf("no %s %s/%s among the teams' claims", kind, ns, name)
	return xr{}
}

// samplePeak samples the rig's resident memory every second; the returned
// func reports the highest sample.
func samplePeak(ctx context.Context, cp *controlplane.ControlPlane) func() int64 {
	var mu sync.Mutex
	var peak int64
	go func() {
		for ctx.Err() == nil {
			if m := cp.RSS(); m > 0 {
				mu.Lock()
				peak = max(peak, m)
				mu.Unlock()
			}
			time.Sleep(time.Second) // sampling, not synchronisation
		}
	}()
	return func() int64 {
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// bootstrap is `kubectl apply -k <overlay>`: the root Application and what
// the overlay holds, after which Argo CD manages everything.
func bootstrap(t *testing.T, ctx context.Context, c *controlplane.Client, overlay string) {
	t.Helper()
	objs, err := verify.Build(filepath.Join(root, overlay))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := c.Apply(ctx, o, false); err != nil {
			t.Fatalf("bootstrap %s: %s: %v", overlay, manifest.ID(o), err)
		}
	}
}

// waitApplications waits until every expected Application is Synced and
// Healthy (known failures: until they show), and returns when each first
// was.
func waitApplications(t *testing.T, ctx context.Context, r *rig, want map[string]int, timeout time.Duration) map[string]time.Time {
	t.Helper()
	healthy := map[string]time.Time{}
	last := map[string]string{}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && len(healthy)+len(knownFailing) < len(want) {
		apps, err := r.c.List(ctx, "argoproj.io/v1alpha1", "Application")
		if err != nil {
			t.Fatal(err)
		}
		for i := range apps {
			s := argocd.StatusOf(&apps[i])
			last[apps[i].GetName()] = s.String()
			if _, ok := healthy[apps[i].GetName()]; !ok && argocd.SyncedAndHealthy(s) {
				healthy[apps[i].GetName()] = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(time.Second): // polling Argo CD's status writes
		}
	}
	var bad []string
	for name := range want {
		_, ok := healthy[name]
		why, known := knownFailing[name]
		switch {
		case !ok && !known:
			bad = append(bad, fmt.Sprintf("%s: %s", name, or(last[name], "not created")))
		case ok && known:
			bad = append(bad, fmt.Sprintf("%s is Synced and Healthy now: remove it from knownFailing (%s)", name, why))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("Applications not Synced and Healthy within %s:\n%s\n\napplication-controller log:\n%s\nrepo-server log:\n%s\ncrossplane log:\n%s",
			timeout, strings.Join(bad, "\n"), r.cp.Log("argocd-application-controller"), r.cp.Log("argocd-repo-server"), r.cp.Log("crossplane"))
	}
	return healthy
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// checkWaves: an Application's first sync starts only once every
// earlier-wave sibling is Healthy (the restored Application health check
// makes the parent wait).
func checkWaves(t *testing.T, ctx context.Context, c *controlplane.Client, healthy map[string]time.Time) {
	apps, err := c.List(ctx, "argoproj.io/v1alpha1", "Application")
	if err != nil {
		t.Fatal(err)
	}
	var wrong []string
	for _, a := range apps {
		for _, b := range apps {
			ha, ok := healthy[a.GetName()]
			if !ok || wave(&a) >= wave(&b) || !sameParent(&a, &b) {
				continue
			}
			first := firstSync(&b)
			// Slack for our one-second polling and second-granular times.
			if !first.IsZero() && first.Add(3*time.Second).Before(ha) {
				wrong = append(wrong, fmt.Sprintf("%s (wave %d) first synced at %s, before %s (wave %d) was Healthy at %s",
					b.GetName(), wave(&b), first.Format(time.TimeOnly), a.GetName(), wave(&a), ha.Format(time.TimeOnly)))
			}
		}
	}
	sort.Strings(wrong)
	defect(t, "sync waves order the first sync", len(wrong) > 0, strings.Join(wrong, "\n"))
}

// firstSync is when Argo CD started an Application's first deployment
// (status.history, oldest first).
func firstSync(app *unstructured.Unstructured) time.Time {
	h, _, _ := unstructured.NestedSlice(app.Object, "status", "history")
	if len(h) == 0 {
		return time.Time{}
	}
	m, _ := h[0].(map[string]any)
	ts, _ := m["deployStartedAt"].(string)
	at, _ := time.Parse(time.RFC3339, ts)
	return at
}

// sameParent: waves order the resources of one Application's sync.
func sameParent(a, b *unstructured.Unstructured) bool {
	return a.GetAnnotations()["argocd.argoproj.io/tracking-id"] != "" &&
		strings.SplitN(a.GetAnnotations()["argocd.argoproj.io/tracking-id"], ":", 2)[0] == strings.SplitN(b.GetAnnotations()["argocd.argoproj.io/tracking-id"], ":", 2)[0]
}

func checkXR(t *testing.T, ctx context.Context, c *controlplane.Client, x xr) {
	t.Helper()
	u, err := c.Get(ctx, x.u.GetAPIVersion(), x.u.GetKind(), x.u.GetNamespace(), x.u.GetName())
	if err != nil {
		t.Errorf("%s: %v", x.id(), err)
		return
	}
	s, msg := condition(u, "Ready")
	defect(t, "Ready: "+x.id(), s != "True", fmt.Sprintf("Ready=%s %q", s, msg))
	for _, f := range statusFields[x.u.GetKind()] {
		v, ok := u.Object["status"].(map[string]any)[f]
		if !ok || v == "" || v == nil {
			t.Errorf("%s: status.%s is empty; the README promises it", x.id(), f)
		}
	}
}

func condition(u *unstructured.Unstructured, typ string) (string, string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			s, _ := m["status"].(string)
			msg, _ := m["message"].(string)
			return s, msg
		}
	}
	return "Unknown", ""
}

// checkComposed: what Crossplane composed through the function equals the
// in-process converged render, resource for resource.
func checkComposed(t *testing.T, ctx context.Context, c *controlplane.Client, x xr) {
	t.Helper()
	u, err := c.Get(ctx, x.u.GetAPIVersion(), x.u.GetKind(), x.u.GetNamespace(), x.u.GetName())
	if err != nil {
		t.Errorf("%s: %v", x.id(), err)
		return
	}
	refs, _, _ := unstructured.NestedSlice(u.Object, "spec", "crossplane", "resourceRefs")
	got := map[string]string{}
	for _, ref := range refs {
		m, _ := ref.(map[string]any)
		api, kind, name := fmt.Sprint(m["apiVersion"]), fmt.Sprint(m["kind"]), fmt.Sprint(m["name"])
		ns := x.u.GetNamespace()
		if n, ok := m["namespace"].(string); ok {
			ns = n
		}
		o, err := c.Get(ctx, api, kind, ns, name)
		if err != nil {
			t.Errorf("%s composed %s %s that cannot be read: %v", x.id(), kind, name, err)
			continue
		}
		got[o.GetAnnotations()["crossplane.io/composition-resource-name"]] = kind
	}
	var diff []string
	for name, kind := range x.plan {
		if got[name] != kind {
			diff = append(diff, fmt.Sprintf("- %s (%s): in unsilo plan, not composed", name, kind))
		}
	}
	for name, kind := range got {
		if x.plan[name] != kind {
			diff = append(diff, fmt.Sprintf("+ %s (%s): composed, not in unsilo plan", name, kind))
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("%s: Crossplane's composed set differs from unsilo plan's (%d vs %d):\n%s", x.id(), len(got), len(x.plan), strings.Join(diff, "\n"))
	}
}
