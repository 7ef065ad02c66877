package fakeaws

import (
	_ "unsafe" // go:linkname

	"k8s.io/apimachinery/pkg/runtime"
)

// resolverScheme is provider-aws's own scheme for its generated reference
// resolvers (internal/apis: every ResolveReferences looks its targets up
// there). The real provider's main fills it with BuildScheme; that package
// is internal to the provider's module, so the simulation reaches the same
// variable by its link name to run the resolvers unchanged.
//
//go:linkname resolverScheme github.com/upbound/provider-aws/v2/internal/apis.s
var resolverScheme *runtime.Scheme

// RegisterResolverTypes registers types with the resolvers' scheme, as the
// provider's main does with every API group it serves.
func RegisterResolverTypes(add func(*runtime.Scheme) error) error {
	return add(resolverScheme)
}
