package compose

import (
	"fmt"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	"github.com/crossplane/function-sdk-go/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Sibling selects another composed resource of the same XR by its
// composition resource name.
func Sibling(component string) *xpv1.NamespacedSelector {
	return &xpv1.NamespacedSelector{
		MatchControllerRef: Ptr(true),
		MatchLabels:        map[string]string{LabelComponent: component},
	}
}

// Meta is the ObjectMeta of a composed resource: only labels; Crossplane
// sets name, namespace and owner.
func Meta(xr *resource.Composite, name string, extra map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Labels: Labels(xr, name, extra)}
}

// ReadSpec decodes the XR's spec into s.
func ReadSpec(xr *resource.Composite, s any) error {
	if err := xr.Resource.GetValueInto("spec", s); err != nil {
		return fmt.Errorf("cannot read spec: %w", err)
	}
	return nil
}

// AddToScheme registers several API groups' types.
func AddToScheme(s *runtime.Scheme, adds ...func(*runtime.Scheme) error) error {
	for _, add := range adds {
		if err := add(s); err != nil {
			return err
		}
	}
	return nil
}

// Default sets *field to v when it holds its zero value: what an XRD
// default would have given a spec field Crossplane did not default (a
// render, a test).
func Default[T comparable](field *T, v T) {
	var zero T
	if *field == zero {
		*field = v
	}
}
