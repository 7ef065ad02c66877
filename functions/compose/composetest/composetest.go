// Package composetest holds what every API's tests need: an XR to compose
// and the API's types registered for conversion.
package composetest

import (
	"testing"

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
