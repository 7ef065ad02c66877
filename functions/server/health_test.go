package server_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/server"
)

// staged composes a bucket and, like an API that composes in stages,
// defers its policy until the bucket's ARN is known.
type staged struct{}

func (staged) Kind() string                      { return "Staged" }
func (staged) AddToScheme(*runtime.Scheme) error { return nil }
func (staged) Compose(_ context.Context, req *compose.Request) (*compose.Result, error) {
	out := compose.NewResult()
	out.Add("bucket", &unstructured.Unstructured{Object: map[string]any{"apiVersion": "s3.aws.m.upbound.io/v1beta1", "kind": "Bucket"}})
	if req.AtProvider("bucket", "arn") == "" {
		out.Defer("bucket-policy", "the ARN of bucket")
		return out, nil
	}
	out.Add("bucket-policy", &unstructured.Unstructured{Object: map[string]any{"apiVersion": "s3.aws.m.upbound.io/v1beta1", "kind": "BucketPolicy"}})
	return out, nil
}

// bucket is an observed Bucket with the given conditions (type, status,
// reason, message) and atProvider.
func bucket(at map[string]any, conds ...[4]string) map[string]any {
	cs := make([]any, 0, len(conds))
	for _, c := range conds {
		cs = append(cs, map[string]any{"type": c[0], "status": c[1], "reason": c[2], "message": c[3]})
	}
	return map[string]any{
		"apiVersion": "s3.aws.m.upbound.io/v1beta1", "kind": "Bucket", "metadata": map[string]any{"name": "shop-site-x7k2p"},
		"status": map[string]any{"conditions": cs, "atProvider": at},
	}
}

// denied is the condition the provider (and e2e/fakeaws) sets when AWS
// refuses the bucket's HeadBucket.
const denied = "observe failed: cannot run refresh: refresh failed: reading S3 Bucket (shop-site): operation error S3: HeadBucket, https response error StatusCode: 403, RequestID: 1, HostID: 2, api error AccessDenied: Access Denied"

func run(t *testing.T, api compose.API, observed map[string]map[string]any, desiredXRReady fnv1.Ready) *fnv1.RunFunctionResponse {
	t.Helper()
	srv, err := server.New(slog.New(slog.NewTextHandler(io.Discard, nil)), api)
	if err != nil {
		t.Fatal(err)
	}
	xr := map[string]any{"apiVersion": compose.Group + "/v1alpha1", "kind": api.Kind(), "metadata": map[string]any{"name": "p", "namespace": "ns"}}
	req := &fnv1.RunFunctionRequest{
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: st(t, xr)}, Resources: map[string]*fnv1.Resource{}},
		Desired:  &fnv1.State{Composite: &fnv1.Resource{Resource: st(t, xr), Ready: desiredXRReady}, Resources: map[string]*fnv1.Resource{}},
	}
	for n, o := range observed {
		req.Observed.Resources[n] = &fnv1.Resource{Resource: st(t, o)}
	}
	rsp, err := srv.RunFunction(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return rsp
}

func conditionOf(rsp *fnv1.RunFunctionResponse, typ string) *fnv1.Condition {
	for _, c := range rsp.GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

func TestResourcesSynced(t *testing.T) {
	long := "api error InvalidRequest: " + strings.Repeat("x", 2000)
	cases := map[string]struct {
		reason   string
		observed map[string]map[string]any
		want     fnv1.Status
		contains []string // in the message
		absent   []string // not in the message
	}{
		"NothingObserved": {
			reason: "nothing exists, so nothing fails",
			want:   fnv1.Status_STATUS_CONDITION_TRUE,
		},
		"AccessDenied": {
			reason:   "AWS's refusal shows on the XR with the resource's name, kind and the provider's message",
			observed: map[string]map[string]any{"bucket": bucket(nil, [4]string{"Synced", "False", "ReconcileError", denied})},
			want:     fnv1.Status_STATUS_CONDITION_FALSE,
			contains: []string{"bucket (Bucket shop-site-x7k2p): ", "api error AccessDenied: Access Denied"},
		},
		"Recovered": {
			reason:   "once the provider reconciles again the condition returns to True",
			observed: map[string]map[string]any{"bucket": bucket(nil, [4]string{"Synced", "True", "ReconcileSuccess", ""}, [4]string{"Ready", "True", "Available", ""})},
			want:     fnv1.Status_STATUS_CONDITION_TRUE,
		},
		"Creating": {
			reason:   "Ready=False while AWS creates the resource is progress, not failure",
			observed: map[string]map[string]any{"bucket": bucket(nil, [4]string{"Ready", "False", "Creating", ""}, [4]string{"Synced", "True", "ReconcileSuccess", ""})},
			want:     fnv1.Status_STATUS_CONDITION_TRUE,
		},
		"ReferenceNotResolved": {
			reason:   "a reference to a sibling still being created is the normal first apply; Degraded would fail Argo CD's sync wave",
			observed: map[string]map[string]any{"bucket": bucket(nil, [4]string{"Synced", "False", "ReconcileError", "cannot resolve references: mg.Spec.ForProvider.VPCID: referenced field was empty (referenced resource may not yet be ready)"})},
			want:     fnv1.Status_STATUS_CONDITION_TRUE,
		},
		"AsyncCreateFailure": {
			reason:   "upjet reports a failed asynchronous create on LastAsyncOperation",
			observed: map[string]map[string]any{"bucket": bucket(nil, [4]string{"LastAsyncOperation", "False", "AsyncCreateFailure", "async create failed: api error BucketAlreadyExists"})},
			want:     fnv1.Status_STATUS_CONDITION_FALSE,
			contains: []string{"bucket (Bucket shop-site-x7k2p): async create failed: api error BucketAlreadyExists"},
		},
		"Bounded": {
			reason:   "a page of Terraform diagnostics is cut so kubectl and Argo CD show it",
			observed: map[string]map[string]any{"bucket": bucket(nil, [4]string{"Synced", "False", "ReconcileError", long})},
			want:     fnv1.Status_STATUS_CONDITION_FALSE,
			contains: []string{"api error InvalidRequest: xxx", "…"},
			absent:   []string{strings.Repeat("x", 600)},
		},
		"Many": {
			reason: "the first three by name are shown and the rest counted",
			observed: map[string]map[string]any{
				"a": bucket(nil, [4]string{"Synced", "False", "ReconcileError", "api error A"}),
				"b": bucket(nil, [4]string{"Synced", "False", "ReconcileError", "api error B"}),
				"c": bucket(nil, [4]string{"Synced", "False", "ReconcileError", "api error C"}),
				"d": bucket(nil, [4]string{"Synced", "False", "ReconcileError", "api error D"}),
				"e": bucket(nil, [4]string{"Synced", "True", "ReconcileSuccess", ""}),
			},
			want:     fnv1.Status_STATUS_CONDITION_FALSE,
			contains: []string{"4 composed resource(s) failing", "a (Bucket", "c (Bucket", "and 1 more"},
			absent:   []string{"api error D"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := run(t, staged{}, tc.observed, fnv1.Ready_READY_UNSPECIFIED)
			c := conditionOf(rsp, server.TypeResourcesSynced)
			if c == nil {
				t.Fatalf("%s: no %s condition", tc.reason, server.TypeResourcesSynced)
			}
			if c.GetStatus() != tc.want {
				t.Errorf("%s: status %v, want %v (message %q)", tc.reason, c.GetStatus(), tc.want, c.GetMessage())
			}
			if c.GetTarget() != fnv1.Target_TARGET_COMPOSITE {
				t.Errorf("%s: target %v, want the composite", tc.reason, c.GetTarget())
			}
			for _, s := range tc.contains {
				if !strings.Contains(c.GetMessage(), s) {
					t.Errorf("%s: message %q lacks %q", tc.reason, c.GetMessage(), s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(c.GetMessage(), s) {
					t.Errorf("%s: message carries %q", tc.reason, s)
				}
			}
		})
	}
}

func TestFailureShownWhenComposeFails(t *testing.T) {
	// An XR of a kind no API composes is fatal; a failing resource it has
	// must still show, or a broken XR hides AWS's message.
	rsp := run(t, wrongKind{}, map[string]map[string]any{"bucket": bucket(nil, [4]string{"Synced", "False", "ReconcileError", denied})}, fnv1.Ready_READY_UNSPECIFIED)
	c := conditionOf(rsp, server.TypeResourcesSynced)
	if c == nil || c.GetStatus() != fnv1.Status_STATUS_CONDITION_FALSE || !strings.Contains(c.GetMessage(), "AccessDenied") {
		t.Errorf("condition %v, want False with AccessDenied", c)
	}
	if len(rsp.GetResults()) == 0 || rsp.GetResults()[0].GetSeverity() != fnv1.Severity_SEVERITY_FATAL {
		t.Errorf("results %v, want the fatal error of the failed compose", rsp.GetResults())
	}
}

// wrongKind fails every compose.
type wrongKind struct{ staged }

func (wrongKind) Compose(context.Context, *compose.Request) (*compose.Result, error) {
	return nil, compose.Invalid("spec.x", 1, "always wrong")
}

func TestComposedReadiness(t *testing.T) {
	ready := [4]string{"Ready", "True", "Available", ""}
	cases := map[string]struct {
		reason    string
		observed  map[string]map[string]any
		earlier   fnv1.Ready // the desired XR's readiness an earlier step set
		wantReady fnv1.Ready
		wantCond  fnv1.Status
		contains  string
	}{
		"DependencyMissing": {
			reason:    "the bucket is Ready but its policy is not composed yet: the XR must not turn Ready",
			observed:  map[string]map[string]any{"bucket": bucket(map[string]any{}, ready)},
			wantReady: fnv1.Ready_READY_FALSE,
			wantCond:  fnv1.Status_STATUS_CONDITION_FALSE,
			contains:  "bucket-policy waits for the ARN of bucket",
		},
		"Complete": {
			reason:    "everything is composed: Crossplane judges readiness from the resources",
			observed:  map[string]map[string]any{"bucket": bucket(map[string]any{"arn": "arn:aws:s3:::b"}, ready)},
			wantReady: fnv1.Ready_READY_UNSPECIFIED,
			wantCond:  fnv1.Status_STATUS_CONDITION_TRUE,
		},
		"EarlierStepSaidFalse": {
			reason:    "an earlier pipeline step's False is kept even when this API is done",
			observed:  map[string]map[string]any{"bucket": bucket(map[string]any{"arn": "arn:aws:s3:::b"}, ready)},
			earlier:   fnv1.Ready_READY_FALSE,
			wantReady: fnv1.Ready_READY_FALSE,
			wantCond:  fnv1.Status_STATUS_CONDITION_TRUE,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := run(t, staged{}, tc.observed, tc.earlier)
			for _, r := range rsp.GetResults() {
				if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
					t.Fatal(r.GetMessage())
				}
			}
			if got := rsp.GetDesired().GetComposite().GetReady(); got != tc.wantReady {
				t.Errorf("%s: composite ready %v, want %v", tc.reason, got, tc.wantReady)
			}
			c := conditionOf(rsp, server.TypeComposed)
			if c == nil || c.GetStatus() != tc.wantCond || !strings.Contains(c.GetMessage(), tc.contains) {
				t.Errorf("%s: %s condition %v, want %v with %q", tc.reason, server.TypeComposed, c, tc.wantCond, tc.contains)
			}
		})
	}
}
