// Package server is the composition function gRPC service: one binary serves
// every platform API, dispatching on the observed XR's kind.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/request"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	"github.com/crossplane/function-sdk-go/response"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/unsilo/unsilo/functions/compose"
)

// Server implements the FunctionRunnerService for a set of APIs.
type Server struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	log  *slog.Logger
	apis map[string]compose.API
}

// New returns a Server that composes the given APIs. It registers their
// types in the SDK's composed scheme, which composed.From converts with.
func New(log *slog.Logger, apis ...compose.API) (*Server, error) {
	s := &Server{log: log, apis: make(map[string]compose.API, len(apis))}
	for _, a := range apis {
		if err := a.AddToScheme(composed.Scheme); err != nil {
			return nil, fmt.Errorf("cannot register the types of API %s: %w", a.Kind(), err)
		}
		s.apis[a.Kind()] = a
	}
	return s, nil
}

// Kinds lists the XR kinds this server composes.
func (s *Server) Kinds() []string { return compose.SortedKeys(s.apis) }

// RunFunction never returns a Go error: problems become fatal results, which
// Crossplane shows on the XR, so the user sees them with kubectl describe.
func (s *Server) RunFunction(ctx context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	rsp := response.To(req, response.DefaultTTL)

	xr, err := request.GetObservedCompositeResource(req)
	if err != nil {
		response.Fatal(rsp, fmt.Errorf("cannot read the observed composite resource: %w", err))
		return rsp, nil
	}
	gvk := xr.Resource.GroupVersionKind()
	id := fmt.Sprintf("%s %s/%s", gvk.Kind, xr.Resource.GetNamespace(), xr.Resource.GetName())
	log := s.log.With("xr", id)

	api, ok := s.apis[gvk.Kind]
	if !ok || gvk.Group != compose.Group {
		response.Fatal(rsp, fmt.Errorf("cannot compose %s: this function composes %v in group %s", gvk, s.Kinds(), compose.Group))
		return rsp, nil
	}

	observed, err := request.GetObservedComposedResources(req)
	if err != nil {
		response.Fatal(rsp, fmt.Errorf("cannot read observed composed resources of %s: %w", id, err))
		return rsp, nil
	}
	// Before composing, so a failing AWS resource shows on the XR even when
	// the API cannot compose this time.
	setResourcesSynced(rsp, observed)

	if err := s.compose(ctx, req, rsp, api, xr, observed); err != nil {
		log.Info("composition failed", "error", err)
		response.Fatal(rsp, fmt.Errorf("cannot compose %s: %w", id, err))
		return rsp, nil
	}
	log.Debug("composed", "resources", len(rsp.GetDesired().GetResources()))
	return rsp, nil
}

// compose adds to the desired state the request carries (response.To copies
// it), so earlier pipeline steps' resources survive untouched.
func (s *Server) compose(ctx context.Context, req *fnv1.RunFunctionRequest, rsp *fnv1.RunFunctionResponse, api compose.API, xr *resource.Composite, observed map[resource.Name]resource.ObservedComposed) error {
	required, err := request.GetRequiredResources(req)
	if err != nil {
		return fmt.Errorf("cannot read required resources: %w", err)
	}
	dxr, err := request.GetDesiredCompositeResource(req)
	if err != nil {
		return fmt.Errorf("cannot read desired composite resource: %w", err)
	}

	res, err := api.Compose(ctx, &compose.Request{XR: xr, Observed: observed, Required: required})
	if err != nil {
		return err
	}
	if res == nil {
		return errors.New("API returned no result")
	}

	if rsp.Desired == nil {
		rsp.Desired = &fnv1.State{}
	}
	if rsp.Desired.Resources == nil {
		rsp.Desired.Resources = map[string]*fnv1.Resource{}
	}
	for name, obj := range res.Resources {
		st, err := toStruct(obj)
		if err != nil {
			return fmt.Errorf("cannot convert desired resource %q: %w", name, err)
		}
		pruneNulls(st)
		r := &fnv1.Resource{Resource: st}
		if prev, ok := rsp.Desired.Resources[string(name)]; ok && prev.GetReady() != fnv1.Ready_READY_UNSPECIFIED {
			r.Ready = prev.GetReady() // an earlier pipeline step decided; do not overrule it
		} else if o, ok := observed[name]; ok && (res.ReadyWhenObserved[name] || compose.ReadyWhenObserved(obj) || compose.IsReady(o)) {
			r.Ready = fnv1.Ready_READY_TRUE
		}
		rsp.Desired.Resources[string(name)] = r
	}

	for _, k := range compose.SortedKeys(res.Status) {
		if err := dxr.Resource.SetValue("status."+k, res.Status[k]); err != nil {
			return fmt.Errorf("cannot set status.%s: %w", k, err)
		}
	}
	prevReady := req.GetDesired().GetComposite().GetReady()
	if err := response.SetDesiredCompositeResource(rsp, dxr); err != nil {
		return fmt.Errorf("cannot set desired composite resource: %w", err)
	}
	rsp.Desired.Composite.Ready = prevReady // an earlier step's say; setComposed may lower it
	setComposed(rsp, res)

	setRequirements(rsp, xr.Resource.GetNamespace(), res.Require)
	for _, w := range res.Warnings {
		response.Warning(rsp, errors.New(w))
	}
	return nil
}

func setRequirements(rsp *fnv1.RunFunctionResponse, namespace string, req map[string]compose.Selector) {
	if len(req) == 0 {
		return
	}
	rs := make(map[string]*fnv1.ResourceSelector, len(req))
	for k, sel := range req {
		ns := namespace
		if sel.Namespace != "" {
			ns = sel.Namespace
		}
		s := &fnv1.ResourceSelector{ApiVersion: sel.APIVersion, Kind: sel.Kind, Namespace: &ns}
		if sel.Name != "" {
			s.Match = &fnv1.ResourceSelector_MatchName{MatchName: sel.Name}
		} else {
			s.Match = &fnv1.ResourceSelector_MatchLabels{MatchLabels: &fnv1.MatchLabels{Labels: sel.MatchLabels}}
		}
		rs[k] = s
	}
	rsp.Requirements = &fnv1.Requirements{Resources: rs}
}

// pruneNulls drops null fields. A provider struct's required-tagged
// pointer left nil (a field set in initProvider instead, such as a node
// group's desiredSize) encodes as null; the API server prunes it anyway,
// and a desired state that says nothing about a field is what we mean.
func pruneNulls(s *structpb.Struct) {
	for k, v := range s.GetFields() {
		switch x := v.GetKind().(type) {
		case *structpb.Value_NullValue:
			delete(s.Fields, k)
		case *structpb.Value_StructValue:
			pruneNulls(x.StructValue)
		case *structpb.Value_ListValue:
			for _, e := range x.ListValue.GetValues() {
				if st := e.GetStructValue(); st != nil {
					pruneNulls(st)
				}
			}
		}
	}
}
