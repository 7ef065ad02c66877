package fakeaws

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// connector checks the ProviderConfig the resource names exists, as the
// real providers do before any AWS call.
type connector struct {
	aws  *AWS
	gvk  schema.GroupVersionKind
	kube client.Client
}

func (c *connector) Connect(ctx context.Context, mg resource.Managed) (managed.ExternalClient, error) {
	ref := mg.(resource.TypedProviderConfigReferencer).GetProviderConfigReference()
	if ref == nil {
		return nil, fmt.Errorf("no providerConfigRef")
	}
	pc := &unstructured.Unstructured{}
	pc.SetGroupVersionKind(schema.GroupVersionKind{Group: "aws.m.upbound.io", Version: "v1beta1", Kind: ref.Kind})
	key := types.NamespacedName{Name: ref.Name}
	if ref.Kind == "ProviderConfig" {
		key.Namespace = mg.GetNamespace()
	}
	if err := c.kube.Get(ctx, key, pc); err != nil {
		return nil, fmt.Errorf("cannot get referenced ProviderConfig: %w", err)
	}
	return &external{aws: c.aws, gvk: c.gvk}, nil
}

type external struct {
	aws *AWS
	gvk schema.GroupVersionKind
}

// fields reads spec.forProvider and the region of a typed resource.
func fields(mg resource.Managed) (map[string]any, string, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(mg)
	if err != nil {
		return nil, "", err
	}
	fp, _, _ := unstructured.NestedMap(u, "spec", "forProvider")
	region, _ := fp["region"].(string)
	return fp, region, nil
}

func (e *external) key(region, id string) string { return e.gvk.Kind + "/" + region + "/" + id }

func (e *external) fault(mg resource.Managed) (Fault, bool) {
	return e.aws.faults.lookup(e.gvk.Kind, mg.GetLabels(), mg.GetAnnotations())
}

func (e *external) Observe(_ context.Context, mg resource.Managed) (managed.ExternalObservation, error) {
	id := meta.GetExternalName(mg)
	if id == "" {
		return managed.ExternalObservation{}, nil
	}
	params, region, err := fields(mg)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	if f, ok := e.fault(mg); ok && f.Code != "" && meta.WasDeleted(mg) {
		return managed.ExternalObservation{}, apiError(e.gvk.Group, e.gvk.Kind, id, "delete", f)
	}
	e.aws.mu.Lock()
	r, ok := e.aws.store[e.key(region, id)]
	if !ok && !meta.WasDeleted(mg) && meta.GetExternalCreateSucceeded(mg).IsZero() {
		// An external name set by the user: the resource already exists in
		// AWS and is imported.
		idn := newIdentity(e.gvk.Group, e.gvk.Kind, id, region, params)
		idn.computed["id"] = id
		r = &record{kind: e.gvk.Kind, region: region, id: id, computed: idn.computed, params: params}
		e.aws.store[e.key(region, id)] = r
		ok = true
	}
	e.aws.mu.Unlock()
	if !ok {
		return managed.ExternalObservation{}, nil
	}
	if f, ok := e.fault(mg); ok && f.Code != "" {
		// AWS refuses to describe what exists (a permission revoked).
		return managed.ExternalObservation{}, readError(e.gvk.Group, e.gvk.Kind, id, f)
	}
	if err := setAtProvider(mg, params, r.computed); err != nil {
		return managed.ExternalObservation{}, err
	}
	if time.Now().Before(r.readyAt) {
		mg.SetConditions(xpv1.Creating())
	} else {
		mg.SetConditions(xpv1.Available())
	}
	return managed.ExternalObservation{ResourceExists: true, ResourceUpToDate: reflect.DeepEqual(r.params, params)}, nil
}

func (e *external) Create(_ context.Context, mg resource.Managed) (managed.ExternalCreation, error) {
	params, region, err := fields(mg)
	if err != nil {
		return managed.ExternalCreation{}, err
	}
	name := meta.GetExternalName(mg)
	if name == "" {
		name = mg.GetName()
	}
	f, _ := e.fault(mg)
	if f.Code != "" {
		return managed.ExternalCreation{}, apiError(e.gvk.Group, e.gvk.Kind, name, "create", f)
	}
	idn := newIdentity(e.gvk.Group, e.gvk.Kind, name, region, params)
	delay := e.aws.opts.Latency
	if f.Slow > 0 {
		delay = f.Slow
	}
	e.aws.mu.Lock()
	e.aws.store[e.key(region, idn.id)] = &record{kind: e.gvk.Kind, region: region, id: idn.id, computed: idn.computed, params: params, readyAt: time.Now().Add(delay)}
	e.aws.ops = append(e.aws.ops, e.op("create", mg, idn.id))
	e.aws.mu.Unlock()
	meta.SetExternalName(mg, idn.id)
	mg.SetConditions(xpv1.Creating())
	return managed.ExternalCreation{}, nil
}

func (e *external) Update(_ context.Context, mg resource.Managed) (managed.ExternalUpdate, error) {
	params, region, err := fields(mg)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	id := meta.GetExternalName(mg)
	if f, ok := e.fault(mg); ok && f.Code != "" {
		return managed.ExternalUpdate{}, apiError(e.gvk.Group, e.gvk.Kind, id, "update", f)
	}
	e.aws.mu.Lock()
	defer e.aws.mu.Unlock()
	if r, ok := e.aws.store[e.key(region, id)]; ok {
		r.params = params
		e.aws.ops = append(e.aws.ops, e.op("update", mg, id))
	}
	return managed.ExternalUpdate{}, nil
}

func (e *external) Delete(_ context.Context, mg resource.Managed) (managed.ExternalDelete, error) {
	params, region, err := fields(mg)
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	id := meta.GetExternalName(mg)
	if f, ok := e.fault(mg); ok && f.Code != "" {
		return managed.ExternalDelete{}, apiError(e.gvk.Group, e.gvk.Kind, id, "delete", f)
	}
	if f, ok := protected(e.gvk.Kind, id, params); ok {
		return managed.ExternalDelete{}, apiError(e.gvk.Group, e.gvk.Kind, id, "delete", f)
	}
	mg.SetConditions(xpv1.Deleting())
	e.aws.mu.Lock()
	defer e.aws.mu.Unlock()
	if _, ok := e.aws.store[e.key(region, id)]; ok {
		delete(e.aws.store, e.key(region, id))
		e.aws.ops = append(e.aws.ops, e.op("delete", mg, id))
	}
	return managed.ExternalDelete{}, nil
}

// protected is AWS refusing to delete what has deletion protection on,
// with the error it answers (RDS DeleteDBInstance, ELB DeleteLoadBalancer).
func protected(kind, id string, params map[string]any) (Fault, bool) {
	switch {
	case kind == "Instance" && params["deletionProtection"] == true:
		return Fault{Code: "InvalidParameterCombination", Message: "Cannot delete protected DB Instance, please disable deletion protection and try again.", Status: 400}, true
	case kind == "LB" && params["enableDeletionProtection"] == true:
		return Fault{Code: "OperationNotPermitted", Message: fmt.Sprintf("Load balancer '%s' cannot be deleted because deletion protection is enabled", id), Status: 400}, true
	}
	return Fault{}, false
}

func (e *external) Disconnect(context.Context) error { return nil }

func (e *external) op(verb string, mg resource.Managed, id string) Op {
	return Op{Verb: verb, Kind: e.gvk.Kind, Name: mg.GetName(), ID: id, At: time.Now(),
		Composite: mg.GetLabels()["crossplane.io/composite"], Resource: mg.GetAnnotations()["crossplane.io/composition-resource-name"]}
}

// setAtProvider writes what AWS reports: the parameters as applied (the
// providers mirror them into atProvider) plus the computed fields.
func setAtProvider(mg resource.Managed, params, computed map[string]any) error {
	at := map[string]any{}
	for k, v := range params {
		if strings.HasSuffix(k, "Ref") || strings.HasSuffix(k, "Refs") || strings.HasSuffix(k, "Selector") {
			continue // Kubernetes-side references, not AWS fields
		}
		at[k] = v
	}
	for k, v := range computed {
		at[k] = v
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(mg)
	if err != nil {
		return err
	}
	if err := unstructured.SetNestedField(u, runtime.DeepCopyJSONValue(at), "status", "atProvider"); err != nil {
		return err
	}
	// Through JSON so fields the Observation type lacks are dropped, not
	// an error (the converter is strict about unknown fields).
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, mg)
}
