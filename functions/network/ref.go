package network

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/compose"
)

// Ref is what another API needs of the Network it lives in.
type Ref struct {
	Name   string
	Region string
}

// Resolve asks Crossplane for the Network called name in namespace (empty:
// the XR's own) and returns it once fetched; ok is false until then. key is
// the requirement key, unique within the calling API, and field the spec
// field that names the Network, for errors.
func Resolve(out *compose.Result, req *compose.Request, key, namespace, name, field string) (ref Ref, ok bool, err error) {
	net, ok, err := out.Resolve(req, compose.Reference{Key: key, Kind: "Network", Namespace: namespace, Name: name, Field: field})
	if !ok || err != nil {
		return Ref{}, ok, err
	}
	region, _, _ := unstructured.NestedString(net.Object, "spec", "region")
	if region == "" {
		return Ref{}, false, compose.Invalid(field, name, "the Network has no spec.region")
	}
	return Ref{Name: name, Region: region}, true, nil
}
