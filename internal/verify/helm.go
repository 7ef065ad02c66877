package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/unsilo/unsilo/internal/team"
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

// localChart returns the chart an Application deploys from this repo, if
// it deploys one (rather than a kustomize folder or a remote chart).
func localChart(root string, app *unstructured.Unstructured) (HelmSource, bool) {
	repo, _, _ := unstructured.NestedString(app.Object, "spec", "source", "repoURL")
	path, _, _ := unstructured.NestedString(app.Object, "spec", "source", "path")
	if repo != team.RepoURL || path == "" {
		return HelmSource{}, false
	}
	dir := filepath.Join(root, path)
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err != nil {
		return HelmSource{}, false
	}
	h := HelmSource{Chart: dir, Release: app.GetName()}
	h.Namespace, _, _ = unstructured.NestedString(app.Object, "spec", "destination", "namespace")
	if r, _, _ := unstructured.NestedString(app.Object, "spec", "source", "helm", "releaseName"); r != "" {
		h.Release = r
	}
	h.ValueFiles, _, _ = unstructured.NestedStringSlice(app.Object, "spec", "source", "helm", "valueFiles")
	h.Values, _, _ = unstructured.NestedString(app.Object, "spec", "source", "helm", "values")
	h.ValuesInline, _, _ = unstructured.NestedMap(app.Object, "spec", "source", "helm", "valuesObject")
	return h, true
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

// checkCharts renders every chart of this repo that an overlay's
// Applications deploy, with that overlay's values, and checks what comes
// out like any other manifest.
func (c *Checker) checkCharts(ctx context.Context, r *Report, overlay string, objs []*unstructured.Unstructured) {
	for _, app := range objs {
		if app.GetKind() != "Application" {
			continue
		}
		h, ok := localChart(c.Root, app)
		if !ok {
			continue
		}
		where := fmt.Sprintf("%s (helm template for %s in %s)", relative(c.Root, h.Chart), app.GetName(), overlay)
		rendered, err := RenderChart(h)
		if err != nil {
			r.add(Finding{File: where, Object: objectID(app), Reason: err.Error(), Rule: "helm"})
			continue
		}
		for _, u := range rendered {
			r.Objects++
			c.checkSchema(r, where, 0, u)
			c.checkPolicy(ctx, r, where, 0, u)
		}
	}
}
