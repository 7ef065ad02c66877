package compose

import (
	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	"github.com/crossplane/function-sdk-go/resource"
	corev1 "k8s.io/api/core/v1"
)

// IsReady reports whether the observed composed resource has condition
// Ready=True: the provider says the cloud resource exists and is usable.
func IsReady(o resource.ObservedComposed) bool {
	if o.Resource == nil {
		return false
	}
	return o.Resource.GetCondition(xpv1.TypeReady).Status == corev1.ConditionTrue
}

// AtProvider reads a string from an observed resource's status.atProvider,
// or "" when the resource or field does not exist yet.
func (r *Request) AtProvider(name, field string) string {
	o, ok := r.Observed[resource.Name(name)]
	if !ok || o.Resource == nil {
		return ""
	}
	v, err := o.Resource.GetString("status.atProvider." + field)
	if err != nil {
		return ""
	}
	return v
}

// AtProviderAll reads the same status.atProvider field from each named
// resource, in order, and reports whether all were observed.
func (r *Request) AtProviderAll(names []string, field string) ([]string, bool) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		v := r.AtProvider(n, field)
		if v == "" {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}
