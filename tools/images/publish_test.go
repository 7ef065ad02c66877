//go:build publish

package main

import (
	"archive/tar"
	"bytes"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"sigs.k8s.io/yaml"
)

// TestPublish runs `make publish` against a real OCI registry served on
// loopback (go-containerregistry's), then pulls the Function package back
// by digest, as Crossplane's package manager does: an index of both
// platforms, each a package whose base layer holds the Function metadata
// and the runtime. The apps are multi-platform images. A second publish
// pushes nothing: a tag is published once.
func TestPublish(t *testing.T) {
	root := os.Getenv("REPO_ROOT")
	if root == "" {
		t.Fatal("set REPO_ROOT (make test-package does)")
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/unsilo"

	out := publish(t, root, repo)
	ref := regexp.MustCompile(`pushed (\S+/function-unsilo:v0\.1\.0-s[0-9a-f]{12})`).FindStringSubmatch(out)
	if ref == nil {
		t.Fatalf("make publish did not push the function package:\n%s", out)
	}
	tag, err := name.NewTag(ref[1])
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(tag)
	if err != nil {
		t.Fatalf("the pushed tag is not in the registry: %v", err)
	}
	// Pull by digest, as an installed Function revision pins it.
	idx, err := remote.Index(tag.Context().Digest(desc.Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	arches := map[string]bool{}
	for _, d := range m.Manifests {
		if d.Platform == nil || d.Platform.OS != "linux" {
			t.Fatalf("manifest %s has no linux platform: %+v", d.Digest, d.Platform)
		}
		arches[d.Platform.Architecture] = true
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		meta := packageMeta(t, img)
		if meta["kind"] != "Function" || meta["metadata"].(map[string]any)["name"] != "function-unsilo" {
			t.Errorf("%s: package.yaml is %v", d.Platform.Architecture, meta)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Architecture != d.Platform.Architecture {
			t.Errorf("the %s package embeds a %s runtime", d.Platform.Architecture, cf.Architecture)
		}
	}
	if !arches["amd64"] || !arches["arm64"] || len(arches) != 2 {
		t.Errorf("function package platforms %v, want amd64 and arm64", arches)
	}
	for _, app := range []string{"rag-api", "log-shipper", "alert-bridge"} {
		r := regexp.MustCompile(`\./apps/` + app + ` (\S+:v0\.1\.0-s[0-9a-f]{12})@`).FindStringSubmatch(out)
		if r == nil {
			t.Errorf("%s was not pushed:\n%s", app, out)
			continue
		}
		ai, err := remote.Index(mustRef(t, r[1]))
		if err != nil {
			t.Errorf("%s: %v", app, err)
			continue
		}
		am, _ := ai.IndexManifest()
		if len(am.Manifests) != 2 {
			t.Errorf("%s: %d platforms, want 2", app, len(am.Manifests))
		}
	}

	again := publish(t, root, repo)
	if strings.Contains(again, "pushed ") || strings.Count(again, "(already published)") < 5 {
		t.Errorf("a second publish of the same code must push nothing:\n%s", again)
	}
	if d2, err := remote.Head(tag); err != nil || d2.Digest != desc.Digest {
		t.Errorf("the tag moved: %v %v", d2, err)
	}
}

func publish(t *testing.T, root, repo string) string {
	t.Helper()
	cmd := exec.Command("make", "--no-print-directory", "publish", "REGISTRY="+repo)
	cmd.Dir = root
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := cmd.Run(); err != nil {
		t.Fatalf("make publish REGISTRY=%s: %v\n%s", repo, err, b.String())
	}
	return b.String()
}

func mustRef(t *testing.T, s string) name.Reference {
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// packageMeta reads package.yaml from a package image's layers.
func packageMeta(t *testing.T, img v1.Image) map[string]any {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Name != "package.yaml" {
				continue
			}
			b, _ := io.ReadAll(tr)
			var m map[string]any
			// package.yaml holds the metadata first, then the examples.
			doc, _, _ := strings.Cut(string(b), "\n---")
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				t.Fatal(err)
			}
			rc.Close()
			return m
		}
		rc.Close()
	}
	t.Fatal("no package.yaml in any layer")
	return nil
}
