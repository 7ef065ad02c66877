package verify

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

// TestXRDDefaultsMatchFunctionDefaults: `crossplane render` and a fresh XR
// in the cluster differ in one way, the API server applies the XRD's
// defaults first. A function must default the same values itself, or what
// a reviewer sees in a render is not what gets built. For every example,
// drop each field that has an XRD default and render with and without the
// API server's defaulting: the composed resources must be identical.
func TestXRDDefaultsMatchFunctionDefaults(t *testing.T) {
	c := checker(t)
	ex, err := c.Catalog.Examples()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range ex {
		objs, err := manifest.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var avail []unstructured.Unstructured
		for _, o := range objs {
			avail = append(avail, *o.Unstructured)
		}
		worlds := map[string][]unstructured.Unstructured{file: avail}
		if err := c.withPlatform(worlds); err != nil {
			t.Fatal(err)
		}
		avail = worlds[file]
		for _, o := range objs {
			api, ok := c.Catalog.Lookup(o.GetAPIVersion(), o.GetKind())
			if !ok {
				continue
			}
			t.Run(o.Where(), func(t *testing.T) {
				props := specSchema(t, api.XRD.Object, o.GroupVersionKind().Version)
				bare := o.DeepCopy()
				dropped := dropDefaulted(bare.Object["spec"].(map[string]any), props, "spec")
				if len(dropped) == 0 {
					return // every field is required: nothing can default differently
				}
				defaulted := bare.DeepCopy()
				if err := c.Schemas.Default(defaulted); err != nil {
					t.Fatal(err)
				}
				a, err := render.Render(context.Background(), c.Function, render.Input{XR: bare, Available: avail})
				if err != nil {
					t.Fatal(err)
				}
				b, err := render.Render(context.Background(), c.Function, render.Input{XR: defaulted, Available: avail})
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(objects(b.Composed), objects(a.Composed)); d != "" {
					t.Errorf("without %v the function defaults differently from the XRD (-XRD defaults +function defaults):\n%s", dropped, d)
				}
			})
		}
	}
}

func objects(us []unstructured.Unstructured) []map[string]any {
	out := make([]map[string]any, len(us))
	for i := range us {
		out[i] = us[i].Object
	}
	return out
}

func specSchema(t *testing.T, xrd map[string]any, version string) apiextensionsv1.JSONSchemaProps {
	t.Helper()
	versions, _, _ := unstructured.NestedSlice(xrd, "spec", "versions")
	for _, v := range versions {
		m := v.(map[string]any)
		if m["name"] != version {
			continue
		}
		raw, _, _ := unstructured.NestedMap(m, "schema", "openAPIV3Schema", "properties", "spec")
		b, _ := json.Marshal(raw)
		var p apiextensionsv1.JSONSchemaProps
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Fatalf("XRD has no version %s", version)
	return apiextensionsv1.JSONSchemaProps{}
}

// dropDefaulted removes every field with a schema default, recursively,
// and returns their paths.
func dropDefaulted(obj map[string]any, s apiextensionsv1.JSONSchemaProps, path string) []string {
	var out []string
	for name, p := range s.Properties {
		v, ok := obj[name]
		if !ok {
			continue
		}
		if p.Default != nil {
			delete(obj, name)
			out = append(out, path+"."+name)
			continue
		}
		if m, ok := v.(map[string]any); ok {
			out = append(out, dropDefaulted(m, p, path+"."+name)...)
		}
	}
	return out
}
