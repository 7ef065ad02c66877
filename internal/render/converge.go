package render

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Unknown is what a converged render shows for values AWS assigns, as a
// plan shows "(known after apply)".
const Unknown = "(known after apply)"

// maxConvergeSteps bounds Converge: each step is one reconcile in which
// resources that wait for another's ARN or endpoint appear.
const maxConvergeSteps = 8

// Converge renders until the set of composed resources stops growing,
// pretending after each step that everything desired exists and is ready
// with unknown ids. The first render is what Crossplane applies at once;
// the converged one is everything the XR will own once AWS has answered
// (node groups after their cluster, a bucket policy after its distribution).
func Converge(ctx context.Context, fn Runner, in Input) (*Output, error) {
	steps, err := Steps(ctx, fn, in)
	if err != nil {
		return nil, err
	}
	return steps[len(steps)-1], nil
}

// Steps is every render Converge makes, the first to the converged one:
// what Crossplane sees reconcile by reconcile.
func Steps(ctx context.Context, fn Runner, in Input) ([]*Output, error) {
	out, err := Render(ctx, fn, in)
	if err != nil {
		return nil, err
	}
	steps := []*Output{out}
	for range maxConvergeSteps {
		next := in
		next.Observed = observeAll(out.Composed)
		n, err := Render(ctx, fn, next)
		if err != nil {
			return nil, err
		}
		steps = append(steps, n)
		if sameNames(out.Composed, n.Composed) {
			return steps, nil
		}
		out = n
	}
	return nil, fmt.Errorf("composed resources still changing after %d reconciles", maxConvergeSteps)
}

// observeAll fakes the observed state of every desired resource: it exists
// under a generated name, is Ready, and its ids are unknown.
func observeAll(desired []unstructured.Unstructured) []unstructured.Unstructured {
	obs := make([]unstructured.Unstructured, 0, len(desired))
	for i := range desired {
		o := *desired[i].DeepCopy()
		name := o.GetAnnotations()[AnnotationResourceName]
		if o.GetName() == "" {
			o.SetName(strings.TrimSuffix(o.GetGenerateName(), "-") + "-" + name)
		}
		at := map[string]any{}
		for _, f := range []string{"id", "arn", "endpoint", "domainName", "dnsName", "address"} {
			at[f] = Unknown
		}
		at["certificateAuthority"] = []any{map[string]any{"data": Unknown}}
		// The secret RDS keeps a managed master password in, which a
		// WebPortal's instances are allowed to read.
		at["masterUserSecret"] = []any{map[string]any{"secretArn": Unknown}}
		// A launch template's version number, which node groups and Auto
		// Scaling groups pin.
		at["latestVersion"] = Unknown
		// Cloud Control resources report their properties as JSON.
		if strings.HasPrefix(o.GetAPIVersion(), "cloudcontrol.") {
			at["properties"] = `{"Arn":"` + Unknown + `"}`
		}
		_ = unstructured.SetNestedMap(o.Object, at, "status", "atProvider")
		_ = unstructured.SetNestedSlice(o.Object, []any{map[string]any{
			"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "2024-01-01T00:00:00Z",
		}}, "status", "conditions")
		obs = append(obs, o)
	}
	return obs
}

func sameNames(a, b []unstructured.Unstructured) bool {
	names := func(us []unstructured.Unstructured) []string {
		out := make([]string, 0, len(us))
		for i := range us {
			out = append(out, us[i].GetAnnotations()[AnnotationResourceName])
		}
		sort.Strings(out)
		return out
	}
	x, y := names(a), names(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}
