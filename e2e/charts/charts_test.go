package charts

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"sigs.k8s.io/yaml"
)

// A stand-in repository answers as a Helm repository does: an index.yaml
// the Helm library loads, naming the chart at the pinned version with a URL
// under the repository, and an archive Helm loads as that chart.
func TestStandInRepositoryIsAHelmRepository(t *testing.T) {
	r, err := NewRepo("https://charts.crossplane.io/stable", Chart{Name: "crossplane", Version: "2.2.0",
		Files: map[string][]byte{"crds/x.yaml": []byte("kind: CustomResourceDefinition\n")}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	defer srv.Close()
	get := func(path string) []byte {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	// The fields of Helm's repo.IndexFile that `helm pull --repo` reads.
	var idx struct {
		APIVersion string `json:"apiVersion"`
		Entries    map[string][]struct {
			Name, Version, Digest string
			URLs                  []string `json:"urls"`
		} `json:"entries"`
	}
	if err := yaml.Unmarshal(get("/stable/index.yaml"), &idx); err != nil {
		t.Fatal(err)
	}
	if idx.APIVersion != "v1" || len(idx.Entries["crossplane"]) != 1 || idx.Entries["crossplane"][0].Version != "2.2.0" {
		t.Fatalf("the index must be a v1 index naming crossplane 2.2.0: %+v", idx)
	}
	if want, got := "https://charts.crossplane.io/stable/crossplane-2.2.0.tgz", idx.Entries["crossplane"][0].URLs; len(got) != 1 || got[0] != want {
		t.Errorf("chart URL %v, want %s", got, want)
	}
	c, err := loader.LoadArchive(bytes.NewReader(get("/stable/crossplane-2.2.0.tgz")))
	if err != nil {
		t.Fatalf("Helm cannot load the archive: %v", err)
	}
	if c.Name() != "crossplane" || c.Metadata.Version != "2.2.0" || len(c.CRDObjects()) != 1 || len(c.Templates) != 1 {
		t.Errorf("chart %s %s with %d CRDs and %d templates, want crossplane 2.2.0 with 1 and 1", c.Name(), c.Metadata.Version, len(c.CRDObjects()), len(c.Templates))
	}
	resp, _ := http.Get(srv.URL + "/stable/other-1.0.0.tgz")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a chart the repository does not hold: %s, want 404", resp.Status)
	}
}
