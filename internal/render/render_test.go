package render_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

func readXR(t *testing.T, file string) *unstructured.Unstructured {
	t.Helper()
	objs, err := manifest.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return objs[0].Unstructured
}

// observe fakes what the provider reports for each desired resource: Ready
// (or not) and an id in status.atProvider, as Crossplane would pass back.
func observe(out *render.Output, ready func(name string) bool) []unstructured.Unstructured {
	obs := make([]unstructured.Unstructured, 0, len(out.Composed))
	for _, cd := range out.Composed {
		o := *cd.DeepCopy()
		name := o.GetAnnotations()[render.AnnotationResourceName]
		o.SetName(o.GetGenerateName() + "x")
		status := "False"
		if ready(name) {
			status = "True"
		}
		_ = unstructured.SetNestedField(o.Object, "id-"+name, "status", "atProvider", "id")
		_ = unstructured.SetNestedSlice(o.Object, []any{map[string]any{"type": "Ready", "status": status, "reason": "x", "lastTransitionTime": "2024-01-01T00:00:00Z"}}, "status", "conditions")
		obs = append(obs, o)
	}
	return obs
}

func readyCondition(t *testing.T, xr *unstructured.Unstructured) (string, string) {
	t.Helper()
	conds, _, _ := unstructured.NestedSlice(xr.Object, "status", "conditions")
	for _, c := range conds {
		m := c.(map[string]any)
		if m["type"] == "Ready" {
			msg, _ := m["message"].(string)
			return m["status"].(string), msg
		}
	}
	t.Fatal("no Ready condition")
	return "", ""
}

// TestReadinessAndStatusAcrossReconciles follows one XR through growing
// observed state: nothing, all but one resource ready, everything ready.
func TestReadinessAndStatusAcrossReconciles(t *testing.T) {
	fn := newServer(t)
	xr := readXR(t, "../../compositions/network/examples/prod.yaml")
	ctx := context.Background()

	first, err := render.Render(ctx, fn, render.Input{XR: xr})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := readyCondition(t, first.XR); s != "False" {
		t.Errorf("nothing observed: Ready=%s, want False", s)
	}
	if _, ok, _ := unstructured.NestedString(first.XR.Object, "status", "vpcId"); ok {
		t.Error("nothing observed: status.vpcId set before AWS returned it")
	}

	almost, err := render.Render(ctx, fn, render.Input{XR: xr, Observed: observe(first, func(n string) bool { return n != "nat-b" })})
	if err != nil {
		t.Fatal(err)
	}
	s, msg := readyCondition(t, almost.XR)
	if s != "False" || !strings.Contains(msg, "nat-b") {
		t.Errorf("one resource unready: Ready=%s %q, want False naming nat-b", s, msg)
	}
	if id, _, _ := unstructured.NestedString(almost.XR.Object, "status", "vpcId"); id != "id-vpc" {
		t.Errorf("status.vpcId = %q, want the observed id", id)
	}
	ids, _, _ := unstructured.NestedStringSlice(almost.XR.Object, "status", "privateSubnetIds")
	if strings.Join(ids, ",") != "id-subnet-private-a,id-subnet-private-b,id-subnet-private-c" {
		t.Errorf("status.privateSubnetIds = %v, want the three private subnets in zone order", ids)
	}

	// Once NAT gateways and what they use exist, Usages order deletion.
	usages := 0
	for _, cd := range almost.Composed {
		if cd.GetKind() == "Usage" {
			usages++
		}
	}
	if usages != 9 {
		t.Errorf("%d Usages once NATs exist, want 3 per NAT (subnet, EIP, internet gateway)", usages)
	}

	// Usages report no Ready condition: they are ready once they exist.
	done, err := render.Render(ctx, fn, render.Input{XR: xr, Observed: observe(almost, func(n string) bool { return !strings.HasPrefix(n, "usage-") })})
	if err != nil {
		t.Fatal(err)
	}
	if s, msg := readyCondition(t, done.XR); s != "True" {
		t.Errorf("all observed ready: Ready=%s %q, want True", s, msg)
	}
	names := map[string]bool{}
	for _, cd := range done.Composed {
		names[cd.GetAnnotations()[render.AnnotationResourceName]] = true
	}
	for _, cd := range first.Composed {
		if n := cd.GetAnnotations()[render.AnnotationResourceName]; !names[n] {
			t.Errorf("%s was dropped once resources became ready: resources must never be dropped", n)
		}
	}
}

func TestFatalNamesTheField(t *testing.T) {
	xr := readXR(t, "../../compositions/network/examples/dev.yaml")
	_ = unstructured.SetNestedField(xr.Object, "10.10.0.0/26", "spec", "cidr")
	_, err := render.Render(context.Background(), newServer(t), render.Input{XR: xr})
	var fatal *render.FatalError
	if !errors.As(err, &fatal) {
		t.Fatalf("want a fatal result, got %v", err)
	}
	if !strings.Contains(fatal.Message, "spec.cidr") || !strings.Contains(fatal.Message, "Network platform/dev") {
		t.Errorf("fatal message %q should name the XR and spec.cidr", fatal.Message)
	}
}

func TestUnknownKindIsFatal(t *testing.T) {
	xr := readXR(t, "../../compositions/network/examples/dev.yaml")
	xr.SetKind("Database")
	_, err := render.Render(context.Background(), newServer(t), render.Input{XR: xr})
	var fatal *render.FatalError
	if !errors.As(err, &fatal) || !strings.Contains(fatal.Message, "Network") {
		t.Fatalf("want a fatal result listing the kinds served, got %v", err)
	}
}
