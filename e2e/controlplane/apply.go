package controlplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// Client applies objects the way Argo CD's server-side apply does.
type Client struct {
	dyn    dynamic.Interface
	ext    apiextensionsclient.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

// NewClient connects to the control plane.
func (cp *ControlPlane) NewClient() (*Client, error) {
	dyn, err := dynamic.NewForConfig(cp.Config)
	if err != nil {
		return nil, err
	}
	ext, err := apiextensionsclient.NewForConfig(cp.Config)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cp.Config)
	if err != nil {
		return nil, err
	}
	return &Client{dyn: dyn, ext: ext, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

// Apply server-side applies obj; with dryRun the server runs all admission
// (schema, CEL, defaults, strict fields) and persists nothing.
func (c *Client) Apply(ctx context.Context, obj *unstructured.Unstructured, dryRun bool) error {
	gvk := obj.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		c.mapper.Reset() // a CRD may have been established since
		m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return fmt.Errorf("no API for %s: %w", gvk, err)
	}
	var r dynamic.ResourceInterface = c.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		r = c.dyn.Resource(m.Resource).Namespace(ns)
	}
	body, err := obj.MarshalJSON()
	if err != nil {
		return err
	}
	opts := metav1.PatchOptions{FieldManager: "unsilo-e2e", Force: ptr(true), FieldValidation: "Strict"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	name := obj.GetName()
	if name == "" && obj.GetGenerateName() != "" {
		// Server-side apply needs a name; composed resources carry
		// generateName, so give them the kind of name Crossplane would.
		name = obj.GetGenerateName() + "e2e"
		obj = obj.DeepCopy()
		obj.SetName(name)
		obj.SetGenerateName("")
		if body, err = obj.MarshalJSON(); err != nil {
			return err
		}
	}
	_, err = r.Patch(ctx, name, types.ApplyPatchType, body, opts)
	return err
}

// WaitEstablished waits until the named CRD serves.
func (c *Client) WaitEstablished(ctx context.Context, name string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		crd, err := c.ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					c.mapper.Reset()
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("CRD %s not established within %s (last error: %v)", name, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond): // polling the CRD's status
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Get reads an object, for failure messages.
func (c *Client) Get(ctx context.Context, apiVersion, kind, namespace, name string) (*unstructured.Unstructured, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, err
	}
	m, err := c.mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	if meta.IsNoMatchError(err) {
		c.mapper.Reset() // a CRD (an XRD's) may have been established since
		m, err = c.mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	}
	if err != nil {
		return nil, err
	}
	if namespace == "" {
		return c.dyn.Resource(m.Resource).Get(ctx, name, metav1.GetOptions{})
	}
	return c.dyn.Resource(m.Resource).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
}

// ReadYAML reads every object of a multi-document YAML file.
func ReadYAML(path string) ([]*unstructured.Unstructured, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

// ApplyCRDFiles creates the CRDs in files and waits until they serve.
func (c *Client) ApplyCRDFiles(ctx context.Context, files ...string) error {
	for _, f := range files {
		objs, err := ReadYAML(f)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := c.Apply(ctx, o, false); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if err := c.WaitEstablished(ctx, o.GetName(), time.Minute); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete deletes an object (foreground: dependents first, as kubectl).
func (c *Client) Delete(ctx context.Context, apiVersion, kind, namespace, name string) error {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return err
	}
	m, err := c.mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	if meta.IsNoMatchError(err) {
		c.mapper.Reset()
		m, err = c.mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	}
	if err != nil {
		return err
	}
	var r dynamic.ResourceInterface = c.dyn.Resource(m.Resource)
	if namespace != "" {
		r = c.dyn.Resource(m.Resource).Namespace(namespace)
	}
	return r.Delete(ctx, name, metav1.DeleteOptions{})
}

// List lists objects of a kind (all namespaces).
func (c *Client) List(ctx context.Context, apiVersion, kind string) ([]unstructured.Unstructured, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, err
	}
	m, err := c.mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	if meta.IsNoMatchError(err) {
		c.mapper.Reset()
		m, err = c.mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	}
	if err != nil {
		return nil, err
	}
	l, err := c.dyn.Resource(m.Resource).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}
