// Package catalog finds the platform's APIs in the repo: one folder per API
// under compositions/, each with an XRD, a Composition and examples.
package catalog

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/manifest"
)

// API is one folder under compositions/.
type API struct {
	Dir         string
	XRDFile     string
	XRD         manifest.Object
	Composition manifest.Object
	APIVersions []string // group/version of each served version
	Kind        string
	Plural      string
}

// Catalog indexes the APIs by apiVersion and kind.
type Catalog struct {
	APIs []*API
	by   map[string]*API
}

// Load reads compositions/*/xrd.yaml and composition.yaml under root.
func Load(root string) (*Catalog, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "compositions", "*", "xrd.yaml"))
	if err != nil {
		return nil, err
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no compositions/*/xrd.yaml under %s", root)
	}
	c := &Catalog{by: map[string]*API{}}
	for _, xrdFile := range dirs {
		a, err := loadAPI(filepath.Dir(xrdFile))
		if err != nil {
			return nil, err
		}
		c.APIs = append(c.APIs, a)
		for _, av := range a.APIVersions {
			c.by[av+"/"+a.Kind] = a
		}
	}
	sort.Slice(c.APIs, func(i, j int) bool { return c.APIs[i].Dir < c.APIs[j].Dir })
	return c, nil
}

func loadAPI(dir string) (*API, error) {
	xrd, err := one(filepath.Join(dir, "xrd.yaml"), "CompositeResourceDefinition")
	if err != nil {
		return nil, err
	}
	comp, err := one(filepath.Join(dir, "composition.yaml"), "Composition")
	if err != nil {
		return nil, err
	}
	a := &API{Dir: dir, XRDFile: xrd.File, XRD: xrd, Composition: comp}
	group, _, _ := unstructured.NestedString(xrd.Object, "spec", "group")
	a.Kind, _, _ = unstructured.NestedString(xrd.Object, "spec", "names", "kind")
	a.Plural, _, _ = unstructured.NestedString(xrd.Object, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(xrd.Object, "spec", "versions")
	for _, v := range versions {
		if m, ok := v.(map[string]any); ok {
			a.APIVersions = append(a.APIVersions, fmt.Sprintf("%s/%v", group, m["name"]))
		}
	}
	if group == "" || a.Kind == "" || len(a.APIVersions) == 0 {
		return nil, fmt.Errorf("%s: XRD needs spec.group, spec.names.kind and spec.versions", xrd.Where())
	}
	ref, _, _ := unstructured.NestedString(comp.Object, "spec", "compositeTypeRef", "kind")
	if ref != a.Kind {
		return nil, fmt.Errorf("%s: composition's compositeTypeRef.kind is %q, but the XRD beside it defines %q", comp.Where(), ref, a.Kind)
	}
	return a, nil
}

func one(file, kind string) (manifest.Object, error) {
	objs, err := manifest.ReadFile(file)
	if err != nil {
		return manifest.Object{}, err
	}
	if len(objs) != 1 || objs[0].GetKind() != kind {
		return manifest.Object{}, fmt.Errorf("%s: want exactly one %s", file, kind)
	}
	return objs[0], nil
}

// Lookup returns the API serving apiVersion and kind.
func (c *Catalog) Lookup(apiVersion, kind string) (*API, bool) {
	a, ok := c.by[apiVersion+"/"+kind]
	return a, ok
}

// IsXR reports whether the object is an instance of one of the APIs.
func (c *Catalog) IsXR(u *unstructured.Unstructured) bool {
	_, ok := c.Lookup(u.GetAPIVersion(), u.GetKind())
	return ok
}

// Examples lists the example XR files of every API: YAML files under
// examples/ except rendered goldens and observed-state fixtures.
func (c *Catalog) Examples() ([]string, error) {
	var out []string
	for _, a := range c.APIs {
		files, err := manifest.YAMLFiles(filepath.Join(a.Dir, "examples"), IsFixture)
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}

// IsFixture reports whether a path is a golden render, observed state or
// a team definition: YAML beside XRs that is not itself a Kubernetes object.
// Files named *.conf.yaml are an application's own configuration that a
// kustomize generator packs (Alertmanager's config); *.test.yaml are test
// files of a tool (promtool).
func IsFixture(path string) bool {
	for _, suffix := range []string{".rendered.yaml", ".observed.yaml", ".conf.yaml", ".test.yaml"} {
		if strings.HasSuffix(path, suffix) {
			return true
		}
	}
	return filepath.Base(path) == "team.yaml"
}

// GoldenPath is where the rendered output of an example lives.
func GoldenPath(example string) string {
	return strings.TrimSuffix(example, filepath.Ext(example)) + ".rendered.yaml"
}

// World names the set of files whose objects exist together, as they would
// in one cluster namespace: a team folder is one world (its WebPortal finds
// the Network in the file next to it), while each example file stands
// alone, since dev.yaml and prod.yaml define the same names twice.
func World(file string) string {
	if filepath.Base(filepath.Dir(file)) == "examples" {
		return file
	}
	return filepath.Dir(file)
}

// Plurals maps each API's kind to its resource name, for RBAC.
func (c *Catalog) Plurals() map[string]string {
	out := make(map[string]string, len(c.APIs))
	for _, a := range c.APIs {
		out[a.Kind] = a.Plural
	}
	return out
}

// PlatformFile is the example that describes the platform's own Network and
// Cluster (namespace platform): team claims may reference them (rag-api's
// KnowledgeBase binds to Cluster platform/tools), so a team's world sees
// them as the control plane would.
const PlatformFile = "compositions/cluster/examples/prod.yaml"

// Platform returns the objects of PlatformFile under root.
func Platform(root string) ([]unstructured.Unstructured, error) {
	objs, err := manifest.ReadFile(filepath.Join(root, PlatformFile))
	if err != nil {
		return nil, err
	}
	out := make([]unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		out = append(out, *o.Unstructured)
	}
	return out, nil
}

// IsExampleWorld reports whether a World is an example file, which stands
// alone but for the platform's objects (Platform).
func IsExampleWorld(world string) bool { return filepath.Base(filepath.Dir(world)) == "examples" }

// AddPlatform lets every world see the platform's objects, as the control
// plane would: a team's KnowledgeBase binds to Cluster platform/tools, and
// every XR that creates roles names that Cluster as its control plane
// (functions/controlplane), examples included. An object a world already
// holds (the platform file's own world) is not added twice.
func AddPlatform(worlds map[string][]unstructured.Unstructured, platform []unstructured.Unstructured) {
	key := func(u *unstructured.Unstructured) string {
		return u.GetAPIVersion() + "/" + u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
	}
	for w, objs := range worlds {
		have := make(map[string]bool, len(objs))
		for i := range objs {
			have[key(&objs[i])] = true
		}
		for i := range platform {
			if !have[key(&platform[i])] {
				worlds[w] = append(worlds[w], platform[i])
			}
		}
	}
}
