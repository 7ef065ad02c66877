package compose

import (
	"strings"

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
		// Both exist after the next apply; until then the XR is not done.
		r.Defer("usage-"+d.By+"-uses-"+d.Of, d.Of+" and "+d.By+" to exist")
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

// UseComposite adds a Usage saying that this XR uses another XR of the same
// namespace, of kind ofKind in Group named ofName (a WebPortal its Network):
// the Network cannot be deleted while the WebPortal exists, so deleting
// both at once (an Argo CD prune) removes the portal's load balancer and
// instances before the subnets under them.
func (r *Result) UseComposite(req *Request, ofKind, ofName, reason string) {
	name := "usage-uses-" + strings.ToLower(ofKind)
	r.ReadyWhenObserved[resource.Name(name)] = true
	r.Add(name, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "protection.crossplane.io/v1beta1",
		"kind":       "Usage",
		"metadata":   map[string]any{"labels": map[string]any{LabelComponent: name}},
		"spec": map[string]any{
			"of":             map[string]any{"apiVersion": Group + "/v1alpha1", "kind": ofKind, "resourceRef": map[string]any{"name": ofName}},
			"by":             map[string]any{"apiVersion": req.XR.Resource.GetAPIVersion(), "kind": req.XR.Resource.GetKind(), "resourceRef": map[string]any{"name": req.XR.Resource.GetName()}},
			"reason":         reason,
			"replayDeletion": true,
		},
	}})
}
