// Package manifest reads Kubernetes YAML files into objects that remember
// where they came from, so every finding can name the file and line.
package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// Object is one YAML document.
type Object struct {
	*unstructured.Unstructured
	File string
	Line int // line of the document's first line in File, from 1
}

// Where is "file:line", for messages.
func (o Object) Where() string { return fmt.Sprintf("%s:%d", o.File, o.Line) }

// ID is "Kind/namespace/name" or "Kind/name".
func (o Object) ID() string { return ID(o.Unstructured) }

// ID names an object for humans.
func ID(u *unstructured.Unstructured) string {
	name := u.GetName()
	if name == "" {
		name = u.GetGenerateName() + "*"
	}
	if u.GetNamespace() != "" {
		return u.GetKind() + "/" + u.GetNamespace() + "/" + name
	}
	return u.GetKind() + "/" + name
}

// ReadFile parses every document of a YAML file. Empty documents are
// skipped; a document without apiVersion or kind is an error naming its line.
func ReadFile(path string) ([]Object, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse parses YAML documents; file is used in errors only. Documents are
// split on "---" lines here rather than by a YAML reader so that each keeps
// its exact starting line.
func Parse(file string, b []byte) ([]Object, error) {
	var out []Object
	lines := strings.SplitAfter(string(b), "\n")
	flush := func(doc []string, first int) error {
		body := strings.Join(doc, "")
		skip := leadingSkip(doc)
		if skip == len(doc) {
			return nil
		}
		// Through JSON, as the API server sees it: integers stay int64.
		j, err := yaml.YAMLToJSONStrict([]byte(body))
		if err != nil {
			return fmt.Errorf("%s:%d: invalid YAML: %w", file, first+skip, err)
		}
		m := map[string]any{}
		if err := unmarshalJSON(j, &m); err != nil {
			return fmt.Errorf("%s:%d: %w", file, first+skip, err)
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetAPIVersion() == "" || u.GetKind() == "" {
			return fmt.Errorf("%s:%d: document has no apiVersion or kind", file, first+skip)
		}
		out = append(out, Object{Unstructured: u, File: file, Line: first + skip})
		return nil
	}
	var doc []string
	first := 1
	for i, l := range lines {
		if t := strings.TrimRight(l, " \t\r\n"); t == "---" || strings.HasPrefix(t, "--- ") {
			if err := flush(doc, first); err != nil {
				return nil, err
			}
			doc, first = nil, i+2
			continue
		}
		doc = append(doc, l)
	}
	if err := flush(doc, first); err != nil {
		return nil, err
	}
	return out, nil
}

// leadingSkip counts the blank and comment lines before a document's content
// so its line points at the first real line; len(doc) means no content.
func leadingSkip(doc []string) int {
	for n, l := range doc {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return n
		}
	}
	return len(doc)
}

// YAMLFiles lists *.yaml and *.yml under root, sorted, skipping names the
// skip function rejects.
func YAMLFiles(root string, skip func(path string) bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || skip != nil && skip(p) {
			return nil
		}
		if ext := filepath.Ext(p); ext == ".yaml" || ext == ".yml" {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// unmarshalJSON decodes a JSON object the way unstructured objects are
// decoded by client-go: integers as int64, other numbers as float64.
func unmarshalJSON(j []byte, into *map[string]any) error {
	if string(bytes.TrimSpace(j)) == "null" {
		return fmt.Errorf("document is not an object")
	}
	obj, err := runtime.Decode(unstructured.UnstructuredJSONScheme, j)
	if err != nil {
		// A document that is not a Kubernetes object still gets a map, so
		// the caller can say which of apiVersion and kind is missing.
		var m map[string]any
		if jerr := json.Unmarshal(j, &m); jerr != nil {
			return fmt.Errorf("document is not an object: %w", jerr)
		}
		*into = m
		return nil
	}
	*into = obj.(*unstructured.Unstructured).Object
	return nil
}
