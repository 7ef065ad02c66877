package argo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// generate renders the Applications an ApplicationSet makes: the git
// directory generator over this repository (the one this repository
// uses), with Go templates and its path parameters, as in Argo CD v3.2's
// Generators-Git.md.
func (r *Repo) generate(ctx context.Context, set *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	goTemplate, _, _ := unstructured.NestedBool(set.Object, "spec", "goTemplate")
	if !goTemplate {
		return nil, fmt.Errorf("spec.goTemplate: only Go templates are supported here")
	}
	opts, _, _ := unstructured.NestedStringSlice(set.Object, "spec", "goTemplateOptions")
	tmpl, ok, _ := unstructured.NestedMap(set.Object, "spec", "template")
	if !ok {
		return nil, fmt.Errorf("spec.template: missing")
	}
	gens, _, _ := unstructured.NestedSlice(set.Object, "spec", "generators")
	var out []*unstructured.Unstructured
	for i, g := range gens {
		git, ok := g.(map[string]any)["git"].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("spec.generators[%d]: only the git generator is supported here", i)
		}
		if git["repoURL"] != r.URL {
			return nil, fmt.Errorf("spec.generators[%d].git.repoURL: %v is not this repository", i, git["repoURL"])
		}
		rev, _ := git["revision"].(string)
		_, dir, err := r.Resolve(ctx, rev)
		if err != nil {
			return nil, fmt.Errorf("spec.generators[%d].git.revision: %w", i, err)
		}
		ds, _ := git["directories"].([]any)
		if len(ds) == 0 {
			return nil, fmt.Errorf("spec.generators[%d].git: only directories are supported here", i)
		}
		paths, err := directories(dir, ds)
		if err != nil {
			return nil, fmt.Errorf("spec.generators[%d].git.directories: %w", i, err)
		}
		for _, p := range paths {
			params := map[string]any{"path": pathParams(p)}
			rendered, err := render(tmpl, params, opts)
			if err != nil {
				return nil, fmt.Errorf("spec.template for %s: %w", p, err)
			}
			u := &unstructured.Unstructured{Object: rendered.(map[string]any)}
			u.SetAPIVersion("argoproj.io/v1alpha1")
			u.SetKind("Application")
			u.SetNamespace(set.GetNamespace())
			out = append(out, u)
		}
	}
	return out, nil
}

// directories matches the generator's path patterns against the checkout:
// directories only, none starting with a dot, excludes winning.
func directories(root string, ds []any) ([]string, error) {
	var include, exclude []string
	for _, d := range ds {
		m, _ := d.(map[string]any)
		p, _ := m["path"].(string)
		if p == "" {
			return nil, fmt.Errorf("an entry without path")
		}
		if ex, _ := m["exclude"].(bool); ex {
			exclude = append(exclude, p)
		} else {
			include = append(include, p)
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, pat := range include {
		matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pat)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pat, err)
		}
		for _, m := range matches {
			rel, _ := filepath.Rel(root, m)
			rel = filepath.ToSlash(rel)
			if st, err := os.Stat(m); err != nil || !st.IsDir() || hidden(rel) || seen[rel] {
				continue
			}
			excluded := false
			for _, ex := range exclude {
				if ok, _ := path.Match(ex, rel); ok {
					excluded = true
				}
			}
			if !excluded {
				seen[rel] = true
				out = append(out, rel)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func hidden(rel string) bool {
	for _, s := range strings.Split(rel, "/") {
		if strings.HasPrefix(s, ".") {
			return true
		}
	}
	return false
}

var unsupported = regexp.MustCompile(`[^a-zA-Z0-9-]`)

func pathParams(p string) map[string]any {
	segs := strings.Split(p, "/")
	anySegs := make([]any, len(segs))
	for i, s := range segs {
		anySegs[i] = s
	}
	base := segs[len(segs)-1]
	return map[string]any{
		"path": p, "basename": base, "basenameNormalized": unsupported.ReplaceAllString(base, "-"), "segments": anySegs,
	}
}

// render executes every string of the template as a Go template.
func render(v any, params map[string]any, opts []string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := render(e, params, opts)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := render(e, params, opts)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	case string:
		if !strings.Contains(x, "{{") {
			return x, nil
		}
		t, err := template.New("").Option(opts...).Parse(x)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, params); err != nil {
			return nil, err
		}
		return b.String(), nil
	}
	return v, nil
}
