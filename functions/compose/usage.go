package compose

import (
	"github.com/crossplane/function-sdk-go/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Dependency says that resource By uses resource Of, so Of must not be
// deleted before By: a NAT gateway before its subnet, say. Both are
// composed resources of the same XR, named by component.
type Dependency struct {
	Of, By         string
	OfKind, ByKind schema.GroupVersionKind
	Reason         string
}

// Use adds a Crossplane Usage for d once both sides exist (are observed):
// deleting the XR then deletes By first and Of only after it is gone,
// instead of AWS refusing and Crossplane retrying for an hour.
// replayDeletion re-triggers Of's deletion as soon as By is gone.
func (r *Result) Use(req *Request, d Dependency) {
	_, ofOK := req.Observed[resource.Name(d.Of)]
	_, byOK := req.Observed[resource.Name(d.By)]
	if !ofOK || !byOK {
		return
	}
	sel := func(gvk schema.GroupVersionKind, component string) map[string]any {
		return map[string]any{
			"apiVersion": gvk.GroupVersion().String(),
			"kind":       gvk.Kind,
			"resourceSelector": map[string]any{
				"matchControllerRef": true,
				"matchLabels":        map[string]any{LabelComponent: component},
			},
		}
	}
	name := "usage-" + d.By + "-uses-" + d.Of
	r.ReadyWhenObserved[resource.Name(name)] = true
	r.Add(name, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "protection.crossplane.io/v1beta1",
		"kind":       "Usage",
		"metadata":   map[string]any{"labels": map[string]any{LabelComponent: name}},
		"spec": map[string]any{
			"of":             sel(d.OfKind, d.Of),
			"by":             sel(d.ByKind, d.By),
			"reason":         d.Reason,
			"replayDeletion": true,
		},
	}})
}
