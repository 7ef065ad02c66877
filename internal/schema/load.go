package schema

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// AddCRDFile registers every CRD in a YAML file now.
func (v *Validator) AddCRDFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	crds, err := parseCRDs(path, b)
	if err != nil {
		return err
	}
	for _, c := range crds {
		if err := v.AddCRD(c); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// headerBytes is how much of a CRD file holds its group and kind: generated
// CRDs put spec.group and spec.names before the (huge) schema.
const headerBytes = 4096

var (
	groupLine = regexp.MustCompile(`(?m)^  group: ['"]?([a-z0-9.-]+)`)
	kindLine  = regexp.MustCompile(`(?m)^    kind: ['"]?([A-Za-z0-9]+)`)
	crdKind   = regexp.MustCompile(`(?m)^kind: CustomResourceDefinition\s*$`)
)

// AddCRDDir indexes the CRD files of a folder (one CRD per file) by reading
// only their headers; a CRD is parsed and compiled when an object of its
// kind is first validated. provider-aws ships 2,000 CRDs in ~100 MB, of
// which a render touches a few dozen. Files whose header does not look like
// a generated CRD are parsed fully.
func (v *Validator) AddCRDDir(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no CRD files in %s", dir)
	}
	for _, f := range files {
		head, err := readHead(f)
		if err != nil {
			return err
		}
		if !crdKind.Match(head) {
			continue // e.g. a kustomization.yaml beside the CRDs
		}
		g, k := groupLine.FindSubmatch(head), kindLine.FindSubmatch(head)
		if g == nil || k == nil {
			if err := v.AddCRDFile(f); err != nil {
				return err
			}
			continue
		}
		v.mu.Lock()
		v.crds[schema.GroupKind{Group: string(g[1]), Kind: string(k[1])}] = &entry{file: f}
		v.mu.Unlock()
	}
	return nil
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // opened read-only: Close cannot lose data
	b := make([]byte, headerBytes)
	n, err := io.ReadFull(f, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	return b[:n], nil
}

func readCRD(path string) (*apiextensionsv1.CustomResourceDefinition, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	crds, err := parseCRDs(path, b)
	if err != nil {
		return nil, err
	}
	if len(crds) != 1 {
		return nil, fmt.Errorf("%s: want one CRD, found %d", path, len(crds))
	}
	return crds[0], nil
}

func parseCRDs(path string, b []byte) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var out []*apiextensionsv1.CustomResourceDefinition
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(doc, crd); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if crd.Kind != "CustomResourceDefinition" {
			continue
		}
		out = append(out, crd)
	}
}
