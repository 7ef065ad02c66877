//go:build package

// Package packages tests what `make package` builds: the Function and
// Configuration .xpkg files open as image tarballs, carry a package.yaml
// whose metadata parses, the function embeds its runtime, and the
// Configuration depends on exactly the function version built and the
// provider versions platform/crossplane installs.
package packages

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// xpkg reads an image tarball and returns its package.yaml documents and
// the number of layers.
func xpkg(t *testing.T, path string) ([]*unstructured.Unstructured, int) {
	t.Helper()
	files := map[string][]byte{}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = b
	}
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("%s: not a single-image tarball: %v", path, err)
	}
	for _, l := range manifest[0].Layers {
		body := files[l]
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: layer %s: %v", path, l, err)
			}
		}
		lr := tar.NewReader(bytes.NewReader(body))
		for {
			h, err := lr.Next()
			if err != nil {
				break
			}
			if h.Name != "package.yaml" {
				continue
			}
			raw, _ := io.ReadAll(lr)
			var docs []*unstructured.Unstructured
			d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
			for {
				u := &unstructured.Unstructured{}
				if err := d.Decode(&u.Object); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatalf("%s: package.yaml: %v", path, err)
				}
				if len(u.Object) > 0 {
					docs = append(docs, u)
				}
			}
			return docs, len(manifest[0].Layers)
		}
	}
	t.Fatalf("%s: no package.yaml in any layer", path)
	return nil, 0
}

func env(t *testing.T, k string) string {
	t.Helper()
	v := os.Getenv(k)
	if v == "" {
		t.Fatalf("%s is not set: run make test-package", k)
	}
	return v
}

// TestFunctionPackage: one package per platform the clusters run (arm64
// nodes, amd64 elsewhere), each embedding that platform's runtime.
func TestFunctionPackage(t *testing.T) {
	dir := env(t, "PACKAGES_DIR")
	for _, arch := range []string{"amd64", "arm64"} {
		docs, layers := xpkg(t, filepath.Join(dir, "function-unsilo-"+arch+".xpkg"))
		if docs[0].GetKind() != "Function" || docs[0].GetName() != "function-unsilo" || docs[0].GetAPIVersion() != "meta.pkg.crossplane.io/v1beta1" {
			t.Errorf("%s: package metadata is %s %s %s", arch, docs[0].GetAPIVersion(), docs[0].GetKind(), docs[0].GetName())
		}
		// The runtime image's layer plus the package's own.
		if layers < 2 {
			t.Errorf("%s: %d layers: the runtime image is not embedded", arch, layers)
		}
	}
}

func TestConfigurationPackage(t *testing.T) {
	dir, version := env(t, "PACKAGES_DIR"), env(t, "VERSION")
	docs, _ := xpkg(t, filepath.Join(dir, "unsilo-platform.xpkg"))
	meta := docs[0]
	if meta.GetKind() != "Configuration" {
		t.Fatalf("first document is %s, want the Configuration metadata", meta.GetKind())
	}
	deps, _, _ := unstructured.NestedSlice(meta.Object, "spec", "dependsOn")
	got := map[string]string{}
	for _, d := range deps {
		m := d.(map[string]any)
		got[m["package"].(string)] = m["version"].(string)
	}
	if got["ghcr.io/unsilo/function-unsilo"] != version {
		t.Errorf("depends on function %q, want the one built: %s", got["ghcr.io/unsilo/function-unsilo"], version)
	}
	installed, err := os.ReadFile("../platform/crossplane/providers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ghcr.io/unsilo/function-unsilo": version}
	for _, m := range regexp.MustCompile(`package: (xpkg\.crossplane\.io/\S+):(v\S+)`).FindAllStringSubmatch(string(installed), -1) {
		want[m[1]] = m[2]
	}
	for p, v := range want {
		if got[p] != v {
			t.Errorf("dependency %s: package says %q, platform/crossplane installs %q", p, got[p], v)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("dependency %s is not installed by platform/crossplane", p)
		}
	}

	apis, _ := filepath.Glob("../compositions/*/xrd.yaml")
	var xrds, comps []string
	for _, d := range docs[1:] {
		switch d.GetKind() {
		case "CompositeResourceDefinition":
			xrds = append(xrds, d.GetName())
		case "Composition":
			comps = append(comps, d.GetName())
		}
	}
	sort.Strings(xrds)
	if len(xrds) != len(apis) || len(comps) != len(apis) {
		t.Errorf("package holds XRDs %v and %d Compositions; compositions/ has %d APIs", xrds, len(comps), len(apis))
	}
	for _, n := range xrds {
		if !strings.HasSuffix(n, ".platform.unsilo.dev") {
			t.Errorf("XRD %s outside the platform's group", n)
		}
	}
}
