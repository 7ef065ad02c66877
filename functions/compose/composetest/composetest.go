// Package composetest holds what every API's tests need: an XR to compose
// and the API's types registered for conversion.
package composetest

import (
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	"github.com/crossplane/function-sdk-go/resource/composite"

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
