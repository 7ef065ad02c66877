package server_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/server"
)

// probe composes one of each kind of readiness: a ConfigMap (no conditions
// ever), a managed resource (ready only on its Ready condition) and a Usage
// the API itself declares ready once observed.
type probe struct{}

func (probe) Kind() string                        { return "Probe" }
func (probe) AddToScheme(s *runtime.Scheme) error { return corev1.AddToScheme(s) }
func (probe) Compose(context.Context, *compose.Request) (*compose.Result, error) {
	out := compose.NewResult()
	out.Add("config", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"k": "v"}})
	out.Add("bucket", &unstructured.Unstructured{Object: map[string]any{"apiVersion": "s3.aws.m.upbound.io/v1beta1", "kind": "Bucket"}})
	out.Add("marker", &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.org/v1", "kind": "Marker"}})
	out.ReadyWhenObserved["marker"] = true
	return out, nil
}

func st(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readyCond(status string) map[string]any {
	return map[string]any{"status": map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": status}}}}
}

func TestReadiness(t *testing.T) {
	xr := map[string]any{"apiVersion": compose.Group + "/v1alpha1", "kind": "Probe", "metadata": map[string]any{"name": "p", "namespace": "ns"}}
	cases := map[string]struct {
		reason   string
		observed map[string]map[string]any
		desired  map[string]fnv1.Ready // what an earlier pipeline step decided
		want     map[string]fnv1.Ready
	}{
		"NothingObserved": {
			reason: "nothing exists yet, so nothing is ready",
			want:   map[string]fnv1.Ready{"config": fnv1.Ready_READY_UNSPECIFIED, "bucket": fnv1.Ready_READY_UNSPECIFIED, "marker": fnv1.Ready_READY_UNSPECIFIED},
		},
		"ObservedWithoutConditions": {
			reason:   "a ConfigMap never carries a Ready condition: observed is ready; a managed resource without Ready=True is not",
			observed: map[string]map[string]any{"config": {}, "bucket": {}, "marker": {}},
			want:     map[string]fnv1.Ready{"config": fnv1.Ready_READY_TRUE, "bucket": fnv1.Ready_READY_UNSPECIFIED, "marker": fnv1.Ready_READY_TRUE},
		},
		"ManagedReady": {
			reason:   "a managed resource is ready on Ready=True only",
			observed: map[string]map[string]any{"bucket": readyCond("True")},
			want:     map[string]fnv1.Ready{"bucket": fnv1.Ready_READY_TRUE, "config": fnv1.Ready_READY_UNSPECIFIED},
		},
		"ManagedNotReady": {
			reason:   "Ready=False is not ready",
			observed: map[string]map[string]any{"bucket": readyCond("False")},
			want:     map[string]fnv1.Ready{"bucket": fnv1.Ready_READY_UNSPECIFIED},
		},
		"EarlierStepDecided": {
			reason:   "an earlier pipeline step's readiness is kept, even against the observed condition",
			observed: map[string]map[string]any{"bucket": readyCond("True"), "config": {}},
			desired:  map[string]fnv1.Ready{"bucket": fnv1.Ready_READY_FALSE, "config": fnv1.Ready_READY_FALSE},
			want:     map[string]fnv1.Ready{"bucket": fnv1.Ready_READY_FALSE, "config": fnv1.Ready_READY_FALSE, "marker": fnv1.Ready_READY_UNSPECIFIED},
		},
	}
	srv, err := server.New(slog.New(slog.NewTextHandler(io.Discard, nil)), probe{})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := &fnv1.RunFunctionRequest{
				Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: st(t, xr)}, Resources: map[string]*fnv1.Resource{}},
				Desired:  &fnv1.State{Resources: map[string]*fnv1.Resource{}},
			}
			for n, o := range tc.observed {
				req.Observed.Resources[n] = &fnv1.Resource{Resource: st(t, o)}
			}
			for n, r := range tc.desired {
				req.Desired.Resources[n] = &fnv1.Resource{Resource: st(t, map[string]any{}), Ready: r}
			}
			rsp, err := srv.RunFunction(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rsp.GetResults() {
				if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
					t.Fatal(r.GetMessage())
				}
			}
			for n, want := range tc.want {
				if got := rsp.GetDesired().GetResources()[n].GetReady(); got != want {
					t.Errorf("%s: %s is %v, want %v", tc.reason, n, got, want)
				}
			}
		})
	}
}
