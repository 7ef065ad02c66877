package argo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// App is one Application of an environment's tree: what Argo CD would
// sync for it, or why it cannot.
type App struct {
	Object *unstructured.Unstructured
	Parent *App   // the Application (or, for generated ones, the ApplicationSet's Application) that syncs it
	Set    string // the ApplicationSet that generated it, if any
	// SetWave is the ApplicationSet's sync wave: a generated Application
	// comes to exist when its ApplicationSet is synced.
	SetWave int
	// Repo is true for a source in this repository (a path), false for a
	// remote chart.
	Repo     bool
	Revision string // spec.source.targetRevision as written
	Commit   string // what it resolved to (this repository only)
	Dir      string // the checkout the path is read from
	Path     string // spec.source.path
	Chart    string // spec.source.chart, for remote charts
	Objects  []*unstructured.Unstructured
	// Files maps each object to the file it came from, relative to Dir
	// (kustomize's origin annotation, which Argo CD does not add; it is
	// removed from the objects).
	Files map[*unstructured.Unstructured]string
	Err   error // the revision, path or build failed
}

// Name is the Application's name.
func (a *App) Name() string { return a.Object.GetName() }

// Wave is the Application's sync wave in its parent's sync.
func (a *App) Wave() int {
	if a.Set != "" {
		return a.SetWave
	}
	return Wave(a.Object)
}

// Destination is the namespace the Application deploys namespaced objects to.
func (a *App) Destination() string {
	ns, _, _ := unstructured.NestedString(a.Object.Object, "spec", "destination", "namespace")
	return ns
}

// Project is the Application's AppProject.
func (a *App) Project() string {
	p, _, _ := unstructured.NestedString(a.Object.Object, "spec", "project")
	return p
}

// Chain names the Applications from the root to a, for messages.
func (a *App) Chain() string {
	if a.Parent == nil {
		return a.Name()
	}
	return a.Parent.Chain() + " > " + a.Name()
}

// Wave is an object's Argo CD sync wave.
func Wave(u *unstructured.Unstructured) int {
	w, err := strconv.Atoi(u.GetAnnotations()["argocd.argoproj.io/sync-wave"])
	if err != nil {
		return 0
	}
	return w
}

// Expand follows root through every Application and ApplicationSet it
// syncs, building each from this repository at the revision it names.
// Remote charts are listed but not rendered (they cannot be fetched here).
// An Application that cannot be built carries the error; Expand itself
// fails only on a broken repository.
func (r *Repo) Expand(ctx context.Context, root *unstructured.Unstructured) ([]*App, error) {
	var out []*App
	seen := map[string]bool{}
	queue := []*App{{Object: root}}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		if seen[a.Name()] {
			continue // the root syncs itself
		}
		seen[a.Name()] = true
		out = append(out, a)
		r.build(ctx, a)
		for _, u := range a.Objects {
			switch {
			case u.GetAPIVersion() == "argoproj.io/v1alpha1" && u.GetKind() == "Application":
				queue = append(queue, &App{Object: u, Parent: a})
			case u.GetAPIVersion() == "argoproj.io/v1alpha1" && u.GetKind() == "ApplicationSet":
				gen, err := r.generate(ctx, u)
				if err != nil {
					out = append(out, &App{Object: u, Parent: a, Set: u.GetName(), Err: err})
					continue
				}
				for _, g := range gen {
					queue = append(queue, &App{Object: g, Parent: a, Set: u.GetName(), SetWave: Wave(u)})
				}
			}
		}
	}
	return out, nil
}

// build fills in what an Application syncs.
func (r *Repo) build(ctx context.Context, a *App) {
	src, _, _ := unstructured.NestedMap(a.Object.Object, "spec", "source")
	if src == nil {
		a.Err = fmt.Errorf("spec.source: only single-source Applications are supported here")
		return
	}
	str := func(k string) string { s, _ := src[k].(string); return s }
	a.Revision, a.Path, a.Chart = str("targetRevision"), str("path"), str("chart")
	if str("repoURL") != r.URL {
		return // a remote chart or repository: its version is checked, its content is not ours
	}
	a.Repo = true
	commit, dir, err := r.Resolve(ctx, a.Revision)
	if err != nil {
		a.Err = fmt.Errorf("spec.source.targetRevision: %w", err)
		return
	}
	a.Commit, a.Dir = commit, dir
	path := filepath.Join(dir, a.Path)
	if a.Path == "" || !inside(dir, path) {
		a.Err = fmt.Errorf("spec.source.path: %q is not a folder of this repository", a.Path)
		return
	}
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		a.Err = fmt.Errorf("spec.source.path: %s does not exist at %s", a.Path, short(a.Revision, commit))
		return
	}
	env := map[string]string{
		"ARGOCD_APP_NAME": a.Name(), "ARGOCD_APP_NAMESPACE": a.Destination(), "ARGOCD_APP_PROJECT_NAME": a.Project(),
		"ARGOCD_APP_REVISION": commit, "ARGOCD_APP_SOURCE_PATH": a.Path, "ARGOCD_APP_SOURCE_REPO_URL": r.URL,
		"ARGOCD_APP_SOURCE_TARGET_REVISION": a.Revision,
	}
	if len(commit) >= 8 {
		env["ARGOCD_APP_REVISION_SHORT"], env["ARGOCD_APP_REVISION_SHORT_8"] = commit[:7], commit[:8]
	}
	switch {
	case IsChart(path):
		a.Objects, a.Err = RenderChart(helmSource(a.Object, path))
	case IsKustomization(path):
		opts := kustomizeOptions(src)
		opts.Origins = true
		a.Objects, a.Err = Build(path, opts, env)
		a.Files = origins(a.Objects, dir, path)
	default:
		a.Err = fmt.Errorf("spec.source.path: %s holds neither a kustomization nor a chart (plain directories are not used here)", a.Path)
	}
	if IsChart(path) {
		a.Files = map[*unstructured.Unstructured]string{}
		for _, u := range a.Objects {
			a.Files[u] = a.Path
		}
	}
	for _, u := range a.Objects {
		if u.GetNamespace() == "" && !ClusterScoped(u) {
			u.SetNamespace(a.Destination()) // as Argo CD applies them
		}
	}
}

// origins reads and removes kustomize's origin annotations.
func origins(objs []*unstructured.Unstructured, checkout, dir string) map[*unstructured.Unstructured]string {
	out := map[*unstructured.Unstructured]string{}
	for _, u := range objs {
		ann := u.GetAnnotations()
		o, ok := ann["config.kubernetes.io/origin"]
		if !ok {
			continue
		}
		delete(ann, "config.kubernetes.io/origin")
		if len(ann) == 0 {
			ann = nil
		}
		u.SetAnnotations(ann)
		var origin struct {
			Path string `json:"path"`
		}
		if err := yaml.Unmarshal([]byte(o), &origin); err != nil || origin.Path == "" {
			continue
		}
		if rel, err := filepath.Rel(checkout, filepath.Join(dir, origin.Path)); err == nil {
			out[u] = filepath.ToSlash(rel)
		}
	}
	return out
}

func kustomizeOptions(src map[string]any) *Kustomize {
	o := &Kustomize{}
	k, _ := src["kustomize"].(map[string]any)
	if k == nil {
		return o
	}
	o.Namespace, _ = k["namespace"].(string)
	o.Envsubst, _ = k["commonAnnotationsEnvsubst"].(bool)
	if ann, ok := k["commonAnnotations"].(map[string]any); ok {
		o.CommonAnnotations = map[string]string{}
		for n, v := range ann {
			o.CommonAnnotations[n], _ = v.(string)
		}
	}
	if cs, ok := k["components"].([]any); ok {
		for _, c := range cs {
			if s, ok := c.(string); ok {
				o.Components = append(o.Components, s)
			}
		}
	}
	o.Patches, _ = k["patches"].([]any)
	return o
}

func short(rev, commit string) string {
	if len(commit) >= 12 && rev != commit {
		return rev + " (" + commit[:12] + ")"
	}
	return rev
}

// ClusterScoped reports whether Argo CD applies the object without a
// namespace: the kinds this repository uses.
func ClusterScoped(u *unstructured.Unstructured) bool {
	switch u.GetKind() {
	case "Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "StorageClass", "PriorityClass",
		"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
		"CompositeResourceDefinition", "Composition", "CompositionRevision", "EnvironmentConfig",
		"Provider", "Function", "Configuration", "DeploymentRuntimeConfig", "ImageConfig",
		"ClusterProviderConfig", "ClusterSecretStore", "ClusterExternalSecret", "ClusterGenerator", "ClusterImageCatalog":
		return true
	}
	return false
}

// ErrNoRoot means clusters/<env> holds no root Application.
var ErrNoRoot = errors.New("no root Application")

// Environment builds clusters/<name> in the working tree (what bootstrap
// applies and the root follows) and expands its root Application.
func (r *Repo) Environment(ctx context.Context, name string) ([]*App, error) {
	return r.Tree(ctx, filepath.Join("clusters", name))
}

// Tree builds dir (repo-relative) in the working tree and expands the root
// Application it holds: an environment's cluster (clusters/<env>) or its
// management cluster (clusters/<env>/management).
func (r *Repo) Tree(ctx context.Context, dir string) ([]*App, error) {
	objs, err := Build(filepath.Join(r.Root, dir), nil, nil)
	if err != nil {
		return nil, err
	}
	for _, u := range objs {
		if u.GetKind() == "Application" && u.GetName() == "root" {
			return r.Expand(ctx, u)
		}
	}
	return nil, fmt.Errorf("%s: %w", dir, ErrNoRoot)
}

// Trees lists the roots of environment name: its cluster and, when the
// repo has one, its management cluster.
func Trees(root, name string) []string {
	out := []string{filepath.Join("clusters", name)}
	if IsKustomization(filepath.Join(root, "clusters", name, "management")) {
		out = append(out, filepath.Join("clusters", name, "management"))
	}
	return out
}
