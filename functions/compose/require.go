package compose

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Reference is another XR in the same namespace that an XR names in its
// spec, e.g. the Network a WebPortal lives in.
type Reference struct {
	Key       string // requirement key
	Kind      string // XR kind in Group
	Namespace string // default: the XR's own
	Name      string
	Field     string // the spec field that names it, for errors
}

// Resolve asks Crossplane for the referenced XR and returns it once
// fetched. ok is false on the first call, before Crossplane has fetched it:
// the API should then compose nothing and let Crossplane call again. A
// reference to something that does not exist is a FieldError.
func (r *Result) Resolve(req *Request, ref Reference) (xr *unstructured.Unstructured, ok bool, err error) {
	if r.Require == nil {
		r.Require = map[string]Selector{}
	}
	// Ask on every call so the requirement stays stable across iterations.
	ns := ref.Namespace
	if ns == "" {
		ns = req.XR.Resource.GetNamespace()
	}
	r.Require[ref.Key] = Selector{APIVersion: Group + "/v1alpha1", Kind: ref.Kind, Namespace: ns, Name: ref.Name}
	got, fetched := req.Required[ref.Key]
	if !fetched {
		r.Defer("the resources that need "+ref.Field, fmt.Sprintf("Crossplane to fetch %s %s/%s", ref.Kind, ns, ref.Name))
		return nil, false, nil
	}
	if len(got) == 0 {
		return nil, false, Invalid(ref.Field, ref.Name, "no %s of that name in namespace %s; create it first or fix the name",
			ref.Kind, ns)
	}
	return got[0].Resource, true, nil
}
