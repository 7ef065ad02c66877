package compose

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Reference is another XR in the same namespace that an XR names in its
// spec, e.g. the Network a WebPortal lives in.
type Reference struct {
	Key   string // requirement key
	Kind  string // XR kind in Group
	Name  string
	Field string // the spec field that names it, for errors
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
	r.Require[ref.Key] = Selector{APIVersion: Group + "/v1alpha1", Kind: ref.Kind, Name: ref.Name}
	got, fetched := req.Required[ref.Key]
	if !fetched {
		return nil, false, nil
	}
	if len(got) == 0 {
		return nil, false, Invalid(ref.Field, ref.Name, "no %s of that name in namespace %s; create it first or fix the name",
			ref.Kind, req.XR.Resource.GetNamespace())
	}
	return got[0].Resource, true, nil
}

// NetworkRegion resolves a Network reference and returns its region.
func (r *Result) NetworkRegion(req *Request, name, field string) (region string, ok bool, err error) {
	net, ok, err := r.Resolve(req, Reference{Key: "network", Kind: "Network", Name: name, Field: field})
	if !ok || err != nil {
		return "", ok, err
	}
	region, _, _ = unstructured.NestedString(net.Object, "spec", "region")
	if region == "" {
		return "", false, Invalid(field, name, "the Network has no spec.region")
	}
	return region, true, nil
}
