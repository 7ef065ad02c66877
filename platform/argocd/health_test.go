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
		"Application": {"child Applications report their own health", "argoproj.io", "Application",
			map[string]any{"health": map[string]any{"status": "Degraded", "message": "sync failed"}}, "Degraded", "sync failed"},
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
			if tc.status != nil {
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
