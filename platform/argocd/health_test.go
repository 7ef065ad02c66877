package argocd

import (
	"context"
	"testing"

	"github.com/unsilo/unsilo/internal/manifest"
)

func argocdCM(t *testing.T) map[string]string {
	t.Helper()
	objs, err := manifest.ReadFile("config/argocd-cm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]string{}
	for k, v := range objs[0].Object["data"].(map[string]any) {
		data[k] = v.(string)
	}
	return data
}

func cond(typ, status, reason, msg string) map[string]any {
	return map[string]any{"type": typ, "status": status, "reason": reason, "message": msg}
}

// awsDenied is what the function's ResourcesSynced says when AWS refuses a
// bucket (functions/server).
const awsDenied = "1 composed resource(s) failing: bucket (Bucket shop-site-x7k2p): observe failed: ... operation error S3: HeadBucket, https response error StatusCode: 403, ... api error AccessDenied: Access Denied"

// app is an Application's status: sync and health status, and the last
// operation (nil: none ran).
func app(sync, health string, op map[string]any) map[string]any {
	s := map[string]any{"sync": map[string]any{"status": sync}, "health": map[string]any{"status": health}}
	if op != nil {
		s["operationState"] = op
	}
	return s
}

// withSource is an Application's spec.source at revision spec and its
// status having compared (status.sync.comparedTo) revision compared; the
// test case carries both as {spec, status}.
func withSource(status map[string]any, spec, compared string) map[string]any {
	src := func(rev string) map[string]any {
		return map[string]any{"repoURL": "https://github.com/unsilo/unsilo.git", "path": "platform/apis", "targetRevision": rev}
	}
	status["sync"].(map[string]any)["comparedTo"] = map[string]any{"source": src(compared)}
	return map[string]any{"spec": map[string]any{"source": src(spec)}, "status": status}
}

func op(phase, msg string) map[string]any { return map[string]any{"phase": phase, "message": msg} }

func TestHealthChecks(t *testing.T) {
	data := argocdCM(t)
	cases := map[string]struct {
		reason      string
		group, kind string
		status      map[string]any
		want        string
		msg         string
	}{
		"XRReady": {"an XR whose composed resources are all ready", "platform.unsilo.dev", "Network",
			map[string]any{"conditions": []any{cond("Synced", "True", "ReconcileSuccess", ""), cond("Ready", "True", "Available", "")}}, "Healthy", "Available"},
		"XRCreating": {"resources still being created", "platform.unsilo.dev", "WebPortal",
			map[string]any{"conditions": []any{cond("Synced", "True", "ReconcileSuccess", ""), cond("Ready", "False", "Creating", "Unready resources: alb, database")}}, "Progressing", "Unready resources: alb, database"},
		"XRReconcileError": {"the function refused the XR", "platform.unsilo.dev", "Cluster",
			map[string]any{"conditions": []any{cond("Synced", "False", "ReconcileError", "cannot compose Cluster platform/tools: spec.networkRef.name: no Network")}}, "Degraded", "cannot compose Cluster platform/tools: spec.networkRef.name: no Network"},
		"XRAWSError": {"a composed bucket AWS refuses: the function's ResourcesSynced carries AWS's message while Crossplane's Synced stays True", "platform.unsilo.dev", "StaticSite",
			map[string]any{"conditions": []any{cond("Synced", "True", "ReconcileSuccess", ""), cond("Ready", "False", "Creating", "Unready resources: bucket"),
				cond("ResourcesSynced", "False", "ComposedResourceError", awsDenied), cond("Composed", "True", "AllComposed", "")}}, "Degraded", awsDenied},
		"XRAWSErrorWhileReady": {"a resource that was Ready fails its next observe: Degraded, not Healthy", "platform.unsilo.dev", "StaticSite",
			map[string]any{"conditions": []any{cond("Synced", "True", "ReconcileSuccess", ""), cond("Ready", "True", "Available", ""),
				cond("ResourcesSynced", "False", "ComposedResourceError", awsDenied)}}, "Degraded", awsDenied},
		"XRRecovered": {"the fault lifted: ResourcesSynced True again", "platform.unsilo.dev", "StaticSite",
			map[string]any{"conditions": []any{cond("Synced", "True", "ReconcileSuccess", ""), cond("Ready", "True", "Available", ""),
				cond("ResourcesSynced", "True", "AllSynced", ""), cond("Composed", "True", "AllComposed", "")}}, "Healthy", "Available"},
		"XRWaiting": {"composed in stages: Crossplane's Ready is False with no message, the function's Composed says what it waits for", "platform.unsilo.dev", "Cluster",
			map[string]any{"conditions": []any{cond("Synced", "True", "ReconcileSuccess", ""), cond("Ready", "False", "Creating", ""),
				cond("ResourcesSynced", "True", "AllSynced", ""), cond("Composed", "False", "WaitingForDependencies", "nodegroup-system waits for the latestVersion of launch-template-system")}},
			"Progressing", "nodegroup-system waits for the latestVersion of launch-template-system"},
		"XRStaleReady": {"a Ready=True left from before a new stage is not Healthy while Composed is False", "platform.unsilo.dev", "Cluster",
			map[string]any{"conditions": []any{cond("Ready", "True", "Available", ""), cond("Composed", "False", "WaitingForDependencies", "kubeconfig waits for the endpoint of cluster")}},
			"Progressing", "kubeconfig waits for the endpoint of cluster"},
		"XRNew": {"no status yet", "platform.unsilo.dev", "StaticSite", nil, "Progressing", "Waiting for Crossplane to compose the resource"},
		"MRReady": {"a managed resource the provider created", "ec2.aws.m.upbound.io", "VPC",
			map[string]any{"conditions": []any{cond("Synced", "True", "", ""), cond("Ready", "True", "Available", "")}}, "Healthy", "Available"},
		"MRAsyncFailed": {"an AWS error during create", "rds.aws.m.upbound.io", "Instance",
			map[string]any{"conditions": []any{cond("LastAsyncOperation", "False", "ApplyFailure", "InvalidParameterCombination"), cond("Ready", "False", "Creating", "")}}, "Degraded", "InvalidParameterCombination"},
		// A parent's sync wave waits for this, so Healthy must mean the
		// child's own sync finished for its current revision.
		"AppNew": {"created, not yet compared", "argoproj.io", "Application", nil, "Progressing", "Waiting for Argo CD to compare the Application"},
		"AppBeforeFirstSync": {"compared: nothing applied, and resources that are Missing count for nothing in its health", "argoproj.io", "Application",
			app("OutOfSync", "Healthy", nil), "Progressing", "Waiting for the sync (OutOfSync)"},
		"AppSyncRunning": {"its own later waves still waiting, the earlier ones Healthy", "argoproj.io", "Application",
			app("OutOfSync", "Healthy", op("Running", "waiting for completion of hook /ConfigMap/x and 1 more resources")), "Progressing", "Sync Running: waiting for completion of hook /ConfigMap/x and 1 more resources"},
		"AppSyncRetrying": {"a failed attempt that will be retried stays Running", "argoproj.io", "Application",
			app("OutOfSync", "Healthy", op("Running", "one or more objects failed to apply. Retrying attempt #3 at 11:24PM.")), "Progressing", "Sync Running: one or more objects failed to apply. Retrying attempt #3 at 11:24PM."},
		"AppSyncFailed": {"retries exhausted", "argoproj.io", "Application",
			app("OutOfSync", "Healthy", op("Failed", "one or more objects failed to apply")), "Degraded", "Sync Failed: one or more objects failed to apply"},
		"AppSyncedProgressing": {"synced, resources not yet ready", "argoproj.io", "Application",
			app("Synced", "Progressing", op("Succeeded", "successfully synced (all tasks run)")), "Progressing", ""},
		"AppDegraded": {"synced, a resource degraded", "argoproj.io", "Application",
			map[string]any{"sync": map[string]any{"status": "Synced"}, "health": map[string]any{"status": "Degraded", "message": "sync failed"}}, "Degraded", "sync failed"},
		"AppOutOfSyncDegraded": {"a degraded resource fails the parent's wave even before the child re-syncs", "argoproj.io", "Application",
			app("OutOfSync", "Degraded", nil), "Degraded", ""},
		"AppSyncedHealthy": {"synced at its revision and healthy", "argoproj.io", "Application",
			app("Synced", "Healthy", op("Succeeded", "successfully synced (all tasks run)")), "Healthy", ""},
		"AppNothingToSync": {"already in sync when first compared: no operation ever ran", "argoproj.io", "Application",
			app("Synced", "Healthy", nil), "Healthy", ""},
		"AppSourceChanged": {"the parent pinned a new commit; the status still describes the old one", "argoproj.io", "Application",
			withSource(app("Synced", "Healthy", op("Succeeded", "successfully synced (all tasks run)")), "bbbb", "aaaa"), "Progressing", "Waiting for Argo CD to compare targetRevision bbbb"},
		"AppSourceCompared": {"compared at the commit its spec names", "argoproj.io", "Application",
			withSource(app("Synced", "Healthy", op("Succeeded", "successfully synced (all tasks run)")), "bbbb", "bbbb"), "Healthy", ""},
		"AppNewRevision": {"an earlier sync succeeded, a new revision is not applied yet", "argoproj.io", "Application",
			app("OutOfSync", "Healthy", op("Succeeded", "successfully synced (all tasks run)")), "Progressing", "Waiting for the sync (OutOfSync)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			script, ok, err := ScriptFor(data, tc.group, tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				t.Fatalf("no health check for %s/%s", tc.group, tc.kind)
			}
			obj := map[string]any{"apiVersion": tc.group + "/v1", "kind": tc.kind}
			switch {
			case tc.status["spec"] != nil: // withSource: a spec and a status
				obj["spec"], obj["status"] = tc.status["spec"], tc.status["status"]
			case tc.status != nil:
				obj["status"] = tc.status
			}
			h, err := Check(context.Background(), script, obj)
			if err != nil {
				t.Fatal(err)
			}
			if h.Status != tc.want || h.Message != tc.msg {
				t.Errorf("%s: got %s %q, want %s %q", tc.reason, h.Status, h.Message, tc.want, tc.msg)
			}
		})
	}
}

func TestNoCheckForOtherKinds(t *testing.T) {
	if _, ok, _ := ScriptFor(argocdCM(t), "apps", "Deployment"); ok {
		t.Error("Deployments use Argo CD's built-in health; none of ours should match")
	}
}
