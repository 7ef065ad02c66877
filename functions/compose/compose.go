// Package compose is what every platform API needs to turn an observed
// composite resource (XR) into desired composed resources: the request it
// reads, the result it returns, naming, tags, field errors and readiness.
// The gRPC plumbing lives in package server so that APIs stay plain Go.
package compose

import (
	"context"

	"github.com/crossplane/function-sdk-go/resource"
	"k8s.io/apimachinery/pkg/runtime"
)

// Group is the API group of every platform XR.
const Group = "platform.unsilo.dev"

// An API composes one kind of XR.
type API interface {
	// Kind is the XR kind this API composes, within Group.
	Kind() string
	// AddToScheme registers the typed resources the API composes, so they
	// can be converted to unstructured desired state.
	AddToScheme(s *runtime.Scheme) error
	// Compose returns the desired composed resources and XR status. A
	// returned error is fatal for this reconcile and is shown on the XR.
	Compose(ctx context.Context, req *Request) (*Result, error)
}

// Request is what an API sees of one RunFunction call.
type Request struct {
	// XR is the observed composite resource.
	XR *resource.Composite
	// Observed holds the composed resources that exist, keyed by their
	// composition resource name.
	Observed map[resource.Name]resource.ObservedComposed
	// Required holds resources the API asked for with Result.Require, keyed
	// by requirement name. Absent until Crossplane has fetched them.
	Required map[string][]resource.Required
}

// Result is what an API wants to exist.
type Result struct {
	// Resources are typed provider structs (or any runtime.Object registered
	// in the composed scheme), keyed by a name that must stay stable across
	// reconciles: renaming a key deletes and recreates the cloud resource.
	Resources map[resource.Name]runtime.Object
	// Status is merged into the XR's status.
	Status map[string]any
	// Require asks Crossplane for other resources (e.g. a referenced
	// Network), keyed by requirement name.
	Require map[string]Selector
	// Warnings are shown on the XR without failing the reconcile.
	Warnings []string
	// ReadyWhenObserved names resources that are ready as soon as they
	// exist, such as Usages, which carry no Ready condition of their own.
	ReadyWhenObserved map[resource.Name]bool
	// Pending names what the API left out for now and what each waits
	// for (see Defer): while it is not empty the XR is not Ready.
	Pending map[string]string
}

// Selector names resources the API needs to read, by name or labels, in
// Namespace (default: the XR's namespace).
type Selector struct {
	APIVersion  string
	Kind        string
	Namespace   string
	Name        string
	MatchLabels map[string]string
}

// NewResult returns an empty Result ready to be filled.
func NewResult() *Result {
	return &Result{Resources: map[resource.Name]runtime.Object{}, Status: map[string]any{}, ReadyWhenObserved: map[resource.Name]bool{}}
}

// Add registers a desired resource under a stable name.
func (r *Result) Add(name string, o runtime.Object) {
	r.Resources[resource.Name(name)] = o
}
