package argo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// HelmSource is what an Argo CD Application says about a chart in this repo.
type HelmSource struct {
	Chart        string // directory holding Chart.yaml
	Release      string
	Namespace    string
	ValueFiles   []string       // relative to Chart, as Argo CD resolves them
	Values       string         // spec.source.helm.values (a YAML string)
	ValuesInline map[string]any // spec.source.helm.valuesObject
}

// helmSource reads an Application's Helm settings for a chart in dir.
func helmSource(app *unstructured.Unstructured, dir string) HelmSource {
	h := HelmSource{Chart: dir, Release: app.GetName()}
	h.Namespace, _, _ = unstructured.NestedString(app.Object, "spec", "destination", "namespace")
	if r, _, _ := unstructured.NestedString(app.Object, "spec", "source", "helm", "releaseName"); r != "" {
		h.Release = r
	}
	h.ValueFiles, _, _ = unstructured.NestedStringSlice(app.Object, "spec", "source", "helm", "valueFiles")
	h.Values, _, _ = unstructured.NestedString(app.Object, "spec", "source", "helm", "values")
	h.ValuesInline, _, _ = unstructured.NestedMap(app.Object, "spec", "source", "helm", "valuesObject")
	return h
}

// RenderChart renders a chart as Argo CD does (helm template): value files
// merged in order, then values, then valuesObject.
func RenderChart(h HelmSource) ([]*unstructured.Unstructured, error) {
	ch, err := loader.Load(h.Chart)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", h.Chart, err)
	}
	// Later files win, as with helm template -f a -f b.
	vals := map[string]any{}
	for _, f := range h.ValueFiles {
		v, err := chartutil.ReadValuesFile(filepath.Join(h.Chart, f))
		if err != nil {
			return nil, fmt.Errorf("value file %s: %w", f, err)
		}
		vals = chartutil.CoalesceTables(v.AsMap(), vals)
	}
	if h.Values != "" {
		var inline map[string]any
		if err := yaml.Unmarshal([]byte(h.Values), &inline); err != nil {
			return nil, fmt.Errorf("spec.source.helm.values: %w", err)
		}
		vals = chartutil.CoalesceTables(inline, vals)
	}
	if h.ValuesInline != nil {
		vals = chartutil.CoalesceTables(h.ValuesInline, vals)
	}
	rv, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: h.Release, Namespace: h.Namespace, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	out, err := engine.Render(ch, rv)
	if err != nil {
		return nil, fmt.Errorf("helm template: %w", err)
	}
	names := make([]string, 0, len(out))
	for n := range out {
		if strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var objs []*unstructured.Unstructured
	for _, n := range names {
		d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(out[n])), 4096)
		for {
			u := &unstructured.Unstructured{}
			err := d.Decode(&u.Object)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
			if len(u.Object) == 0 {
				continue
			}
			if u.GetNamespace() == "" {
				u.SetNamespace(h.Namespace)
			}
			objs = append(objs, u)
		}
	}
	return objs, nil
}
