// Package composetest holds what every API's tests need: an XR to compose
// and the API's types registered for conversion.
package composetest

import (
	"strings"
	"testing"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	"github.com/crossplane/function-sdk-go/resource/composite"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/compose"
)

// Main registers api's types, then runs the tests; call it from TestMain.
func Main(m *testing.M, api compose.API) int {
	if err := api.AddToScheme(composed.Scheme); err != nil {
		panic(err) // a type that cannot register is a programming error
	}
	return m.Run()
}

// XR is a platform XR of kind in namespace/name with spec.
func XR(kind, namespace, name string, spec map[string]any) *resource.Composite {
	u := composite.New()
	u.SetAPIVersion(compose.Group + "/v1alpha1")
	u.SetKind(kind)
	u.SetName(name)
	u.SetNamespace(namespace)
	u.Object["spec"] = spec
	return &resource.Composite{Resource: u}
}

// ControlPlaneAccount is the account of ControlPlane's Cluster.
const ControlPlaneAccount = "123456789012"

// ControlPlane is the platform's Cluster (platform/tools) as Crossplane
// hands it to an API that asked for its control plane.
func ControlPlane() []resource.Required {
	return []resource.Required{{Resource: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": compose.Group + "/v1alpha1", "kind": "Cluster",
		"metadata": map[string]any{"name": "tools", "namespace": "platform"},
		"spec":     map[string]any{"accountId": ControlPlaneAccount},
	}}}}
}

// Required is the required resources of a request with the control plane
// and the extra ones given.
func Required(extra map[string][]resource.Required) map[string][]resource.Required {
	out := map[string][]resource.Required{"control-plane": ControlPlane()}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// ReadyKey in an observed resource's atProvider map marks it Ready=True
// (Observed); the key itself is dropped.
const ReadyKey = "ready"

// Observed is the observed state of composed resources, by name, with the
// given status.atProvider; those whose map holds ReadyKey are Ready.
func Observed(atProvider map[string]map[string]any) map[resource.Name]resource.ObservedComposed {
	out := make(map[resource.Name]resource.ObservedComposed, len(atProvider))
	for name, at := range atProvider {
		cd := composed.New()
		ready := at[ReadyKey] != nil
		fields := make(map[string]any, len(at))
		for k, v := range at {
			if k != ReadyKey {
				fields[k] = v
			}
		}
		_ = cd.SetValue("status.atProvider", fields)
		if ready {
			cd.SetConditions(xpv1.Available())
		}
		out[resource.Name(name)] = resource.ObservedComposed{Resource: cd}
	}
	return out
}

// With sets a dotted path (a.b.c) in spec, creating maps on the way, and
// returns spec.
func With(spec map[string]any, path string, v any) map[string]any {
	keys := strings.Split(path, ".")
	m := spec
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
	return spec
}

// Strings reads an IAM element that is a string or a list of strings.
func Strings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}
