package argo

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Kustomize holds what an Application's spec.source.kustomize asks of a
// build (the options this repository uses).
type Kustomize struct {
	Namespace         string
	CommonAnnotations map[string]string
	Envsubst          bool // commonAnnotationsEnvsubst
	Components        []string
	Patches           []any
	// Origins asks kustomize to note each object's source file
	// (config.kubernetes.io/origin), for messages; Argo CD does not.
	Origins bool
}

// Build runs kustomize (the krusty library, as `kustomize build` and Argo CD
// do) on one directory. With options it first edits the kustomization the
// way Argo CD's repo server does (kustomize edit set namespace, add
// annotation, add component; patches appended), in memory, so the files on
// disk stay as they are. env holds the build environment for envsubst.
func Build(dir string, opts *Kustomize, env map[string]string) ([]*unstructured.Unstructured, error) {
	fs := filesys.MakeFsOnDisk()
	if opts != nil {
		edited, err := edit(dir, opts, env)
		if err != nil {
			return nil, err
		}
		fs = overlay{FileSystem: fs, files: edited}
	}
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var out []*unstructured.Unstructured
	for _, r := range rm.Resources() {
		// Through JSON, as Argo CD sends it: kyaml's maps hold Go ints,
		// which unstructured objects cannot deep-copy.
		j, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, r.CurId(), err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, r.CurId(), err)
		}
		out = append(out, u)
	}
	return out, nil
}

// edit returns the kustomization file of dir as Argo CD leaves it.
func edit(dir string, o *Kustomize, env map[string]string) (map[string][]byte, error) {
	path := ""
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			path = filepath.Join(dir, n)
			break
		}
	}
	if path == "" {
		return nil, fmt.Errorf("%s: no kustomization.yaml", dir)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k := map[string]any{}
	if err := yaml.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if o.Namespace != "" {
		k["namespace"] = o.Namespace
	}
	if o.Origins {
		bm, _ := k["buildMetadata"].([]any)
		k["buildMetadata"] = append(bm, "originAnnotations")
	}
	if len(o.CommonAnnotations) > 0 {
		ann, _ := k["commonAnnotations"].(map[string]any)
		if ann == nil {
			ann = map[string]any{}
		}
		for _, name := range sortedKeys(o.CommonAnnotations) {
			if _, dup := ann[name]; dup {
				// kustomize edit add annotation refuses an existing key
				// (Argo CD passes --force only with forceCommonAnnotations).
				return nil, fmt.Errorf("%s: commonAnnotations already has %s, which the Application adds too", path, name)
			}
			v := o.CommonAnnotations[name]
			if o.Envsubst {
				v = os.Expand(v, func(k string) string { return env[k] })
			}
			ann[name] = v
		}
		k["commonAnnotations"] = ann
	}
	if len(o.Components) > 0 {
		comps, _ := k["components"].([]any)
		for _, c := range o.Components {
			if _, err := os.Stat(filepath.Join(dir, c)); err != nil {
				return nil, fmt.Errorf("%s: component %s (spec.source.kustomize.components) does not exist", dir, c)
			}
			comps = append(comps, c)
		}
		k["components"] = comps
	}
	if len(o.Patches) > 0 {
		ps, _ := k["patches"].([]any)
		k["patches"] = append(ps, o.Patches...)
	}
	nb, err := yaml.Marshal(k)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{abs: nb, path: nb}, nil
}

// overlay serves edited files over the disk.
type overlay struct {
	filesys.FileSystem
	files map[string][]byte
}

func (o overlay) ReadFile(name string) ([]byte, error) {
	if b, ok := o.files[name]; ok {
		return b, nil
	}
	if abs, err := filepath.Abs(name); err == nil {
		if b, ok := o.files[abs]; ok {
			return b, nil
		}
	}
	return o.FileSystem.ReadFile(name)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// IsKustomization reports whether dir holds a kustomization.
func IsKustomization(dir string) bool {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

// IsChart reports whether dir holds a Helm chart.
func IsChart(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
	return err == nil
}

// inside reports whether p stays within root (Argo CD refuses paths that
// leave the repository).
func inside(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
