// Package render runs the platform's composition function in-process on XR
// manifests, the way `crossplane render` runs it over gRPC, and returns the
// same objects: the XR with its status and conditions, then every desired
// composed resource with the metadata Crossplane would add.
package render

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpresource "github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Annotation and label keys Crossplane sets on composed resources.
const (
	AnnotationResourceName = "crossplane.io/composition-resource-name"
	LabelComposite         = "crossplane.io/composite"
)

// Runner is the function under test: our server, in-process.
type Runner interface {
	RunFunction(ctx context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error)
}

// Input is one render: an XR, what is observed of its composed resources,
// and the other resources the function may require (e.g. a Network).
type Input struct {
	XR        *unstructured.Unstructured
	Observed  []unstructured.Unstructured
	Available []unstructured.Unstructured
}

// Output is what Crossplane would apply.
type Output struct {
	XR       *unstructured.Unstructured
	Composed []unstructured.Unstructured
	Results  []Result
}

// Result is a non-fatal message from the function.
type Result struct {
	Severity string
	Message  string
}

// FatalError is a fatal result: the XR is not composed at all.
type FatalError struct{ Message string }

func (e *FatalError) Error() string { return e.Message }

// maxIterations bounds the requirements loop as Crossplane does: a function
// that keeps asking for different resources is a bug, not a reason to spin.
const maxIterations = 5

// Render runs fn once per pipeline step (we have one) and, like Crossplane,
// re-runs it while it asks for resources it has not been given yet.
func Render(ctx context.Context, fn Runner, in Input) (*Output, error) {
	req, err := request(in)
	if err != nil {
		return nil, err
	}
	var rsp *fnv1.RunFunctionResponse
	for i := 0; ; i++ {
		// Each call starts from an empty desired state, as each of
		// Crossplane's does: the SDK's response aliases the request's, so
		// a reused one would carry the last call's answer into this one.
		req.Desired = &fnv1.State{}
		if rsp, err = fn.RunFunction(ctx, req); err != nil {
			return nil, fmt.Errorf("cannot run function: %w", err)
		}
		if err := fatal(rsp); err != nil {
			return nil, err
		}
		required, err := fetch(rsp.GetRequirements(), in.Available)
		if err != nil {
			return nil, err
		}
		if sameKeys(required, req.GetRequiredResources()) {
			break
		}
		if i == maxIterations {
			return nil, errors.New("function requirements did not stabilize")
		}
		req.RequiredResources = required
	}
	return output(in, rsp)
}

func request(in Input) (*fnv1.RunFunctionRequest, error) {
	xr, err := structpb.NewStruct(in.XR.Object)
	if err != nil {
		return nil, fmt.Errorf("cannot convert XR: %w", err)
	}
	obs := map[string]*fnv1.Resource{}
	for i := range in.Observed {
		o := &in.Observed[i]
		name := o.GetAnnotations()[AnnotationResourceName]
		if name == "" {
			return nil, fmt.Errorf("observed %s %q has no %s annotation", o.GetKind(), o.GetName(), AnnotationResourceName)
		}
		s, err := structpb.NewStruct(o.Object)
		if err != nil {
			return nil, fmt.Errorf("cannot convert observed %s: %w", name, err)
		}
		obs[name] = &fnv1.Resource{Resource: s}
	}
	return &fnv1.RunFunctionRequest{
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: xr}, Resources: obs},
		Desired:  &fnv1.State{},
		Context:  &structpb.Struct{Fields: map[string]*structpb.Value{}},
		Meta: &fnv1.RequestMeta{Capabilities: []fnv1.Capability{
			fnv1.Capability_CAPABILITY_CAPABILITIES, fnv1.Capability_CAPABILITY_REQUIRED_RESOURCES,
			fnv1.Capability_CAPABILITY_CREDENTIALS, fnv1.Capability_CAPABILITY_CONDITIONS,
			fnv1.Capability_CAPABILITY_REQUIRED_SCHEMAS,
		}},
	}, nil
}

func fatal(rsp *fnv1.RunFunctionResponse) error {
	for _, r := range rsp.GetResults() {
		if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
			return &FatalError{Message: r.GetMessage()}
		}
	}
	return nil
}

// conditionTime is the fixed transition time crossplane render uses, so
// output is stable and comparable.
var conditionTime = metav1.NewTime(time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC))

func output(in Input, rsp *fnv1.RunFunctionResponse) (*Output, error) {
	out := &Output{}
	var unready []string
	names := make([]string, 0, len(rsp.GetDesired().GetResources()))
	for name := range rsp.GetDesired().GetResources() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		dr := rsp.GetDesired().GetResources()[name]
		if dr.GetReady() != fnv1.Ready_READY_TRUE {
			unready = append(unready, name)
		}
		cd := unstructured.Unstructured{Object: dr.GetResource().AsMap()}
		if err := setComposedMetadata(&cd, in.XR, name); err != nil {
			return nil, err
		}
		out.Composed = append(out.Composed, cd)
	}

	xr := &unstructured.Unstructured{Object: rsp.GetDesired().GetComposite().GetResource().AsMap()}
	xr.SetAPIVersion(in.XR.GetAPIVersion())
	xr.SetKind(in.XR.GetKind())
	xr.SetName(in.XR.GetName())
	xr.SetNamespace(in.XR.GetNamespace())
	cond := xpv1.Available()
	switch {
	case rsp.GetDesired().GetComposite().GetReady() == fnv1.Ready_READY_FALSE:
		cond = xpv1.Creating()
	case rsp.GetDesired().GetComposite().GetReady() == fnv1.Ready_READY_UNSPECIFIED && len(unready) > 0:
		cond = xpv1.Creating().WithMessage("Unready resources: " + xpresource.StableNAndSomeMore(xpresource.DefaultFirstN, unready))
	}
	cond.LastTransitionTime = conditionTime
	if err := unstructured.SetNestedSlice(xr.Object, xrConditions(cond, rsp.GetConditions()), "status", "conditions"); err != nil {
		return nil, fmt.Errorf("cannot set XR conditions: %w", err)
	}
	out.XR = xr

	for _, r := range rsp.GetResults() {
		out.Results = append(out.Results, Result{Severity: r.GetSeverity().String(), Message: r.GetMessage()})
	}
	return out, nil
}

// xrConditions are the XR's Ready condition and, as Crossplane sets them,
// the conditions the function set on it: system types (Ready, Synced,
// Healthy) are Crossplane's alone, and a later one of a type replaces the
// earlier.
func xrConditions(ready xpv1.Condition, fromFn []*fnv1.Condition) []any {
	out := []any{conditionMap(ready)}
	at := map[string]int{string(ready.Type): 0}
	for _, c := range fromFn {
		if xpv1.IsSystemConditionType(xpv1.ConditionType(c.GetType())) {
			continue
		}
		status := corev1.ConditionUnknown
		switch c.GetStatus() {
		case fnv1.Status_STATUS_CONDITION_TRUE:
			status = corev1.ConditionTrue
		case fnv1.Status_STATUS_CONDITION_FALSE:
			status = corev1.ConditionFalse
		}
		m := conditionMap(xpv1.Condition{Type: xpv1.ConditionType(c.GetType()), Status: status, Reason: xpv1.ConditionReason(c.GetReason()),
			Message: c.GetMessage(), LastTransitionTime: conditionTime})
		if i, ok := at[c.GetType()]; ok {
			out[i] = m
			continue
		}
		at[c.GetType()] = len(out)
		out = append(out, m)
	}
	return out
}

func conditionMap(c xpv1.Condition) map[string]any {
	m := map[string]any{
		"type":               string(c.Type),
		"status":             string(c.Status),
		"reason":             string(c.Reason),
		"lastTransitionTime": c.LastTransitionTime.UTC().Format(time.RFC3339),
	}
	if c.Message != "" {
		m["message"] = c.Message
	}
	return m
}

// setComposedMetadata mirrors Crossplane's RenderComposedResourceMetadata.
func setComposedMetadata(cd, xr *unstructured.Unstructured, name string) error {
	prefix := xr.GetLabels()[LabelComposite]
	if prefix == "" {
		prefix = xr.GetName()
	}
	if cd.GetName() == "" && cd.GetGenerateName() == "" {
		cd.SetGenerateName(prefix + "-")
	}
	if xr.GetNamespace() != "" {
		cd.SetNamespace(xr.GetNamespace())
	}
	meta.AddAnnotations(cd, map[string]string{AnnotationResourceName: name})
	meta.AddLabels(cd, map[string]string{LabelComposite: prefix})
	ref := meta.AsController(meta.TypedReferenceTo(xr, xr.GroupVersionKind()))
	if err := meta.AddControllerReference(cd, ref); err != nil {
		return fmt.Errorf("cannot set the XR as controller of %q: %w", name, err)
	}
	return nil
}
