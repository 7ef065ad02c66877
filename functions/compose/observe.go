package compose

import (
	"strconv"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	"github.com/crossplane/function-sdk-go/resource"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
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

// conditionless are kinds that never carry a Ready condition: Kubernetes
// stores them and they are usable at once, so they are ready as soon as
// they are observed. Without this an XR composing one is never Ready.
var conditionless = map[schema.GroupKind]bool{
	{Group: "", Kind: "ConfigMap"}:                     true,
	{Group: "", Kind: "Secret"}:                        true,
	{Group: "protection.crossplane.io", Kind: "Usage"}: true,
}

// ReadyWhenObserved reports whether o is of a kind that is ready once it
// exists (see conditionless). A typed object must carry its kind: the
// server sets it from the scheme before it asks.
func ReadyWhenObserved(o runtime.Object) bool {
	return conditionless[o.GetObjectKind().GroupVersionKind().GroupKind()]
}

// IsConditionless reports whether objects of gk carry no conditions, for
// checks outside the function (verify's readiness rule).
func IsConditionless(gk schema.GroupKind) bool { return conditionless[gk] }

// AtProviderNumber reads a number from an observed resource's
// status.atProvider as the decimal string AWS APIs take where they read one
// back (a launch template version), or "" when it is not known yet. A
// string there (a render's placeholder) is passed through.
func (r *Request) AtProviderNumber(name, field string) string {
	o, ok := r.Observed[resource.Name(name)]
	if !ok || o.Resource == nil {
		return ""
	}
	v, err := o.Resource.GetValue("status.atProvider." + field)
	if err != nil {
		return ""
	}
	switch n := v.(type) {
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(n, 10)
	case string:
		return n
	}
	return ""
}
