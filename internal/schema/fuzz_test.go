package schema

import "testing"

// FuzzAddXRD: a malformed XRD is an error, never a panic.
func FuzzAddXRD(f *testing.F) {
	f.Add([]byte(xrdYAML))
	f.Add([]byte("apiVersion: apiextensions.crossplane.io/v2\nkind: CompositeResourceDefinition\nspec: {versions: [{name: v1}]}\n"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = New().AddXRD(b)
	})
}
