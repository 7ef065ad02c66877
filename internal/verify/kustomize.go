package verify

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/argo"
)

// Overlays lists every directory under the roots holding a kustomization.
func Overlays(roots ...string) ([]string, error) {
	var out []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if os.IsNotExist(err) {
				return filepath.SkipDir
			}
			if err != nil {
				return err
			}
			if !d.IsDir() && (d.Name() == "kustomization.yaml" || d.Name() == "kustomization.yml" || d.Name() == "Kustomization") && !isComponent(p) {
				out = append(out, filepath.Dir(p))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// isComponent reports whether a kustomization file is a Component, which
// only other kustomizations build.
func isComponent(file string) bool {
	b, err := os.ReadFile(file)
	return err == nil && componentRE.Match(b)
}

var componentRE = regexp.MustCompile(`(?m)^kind:\s*Component\s*$`)

// Build runs kustomize on one overlay as it is on disk (no Argo CD options).
func Build(dir string) ([]*unstructured.Unstructured, error) { return argo.Build(dir, nil, nil) }
