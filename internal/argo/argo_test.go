package argo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, dir, file, s string) {
	t.Helper()
	p := filepath.Join(dir, file)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDirectories: the git directory generator matches directories only,
// never hidden ones, and excludes win.
func TestDirectories(t *testing.T) {
	d := t.TempDir()
	for _, f := range []string{"teams/a/dev/k.yaml", "teams/b/dev/k.yaml", "teams/b/prod/k.yaml", "teams/.hidden/dev/k.yaml", "teams/c/dev"} {
		write(t, d, f, "x")
	}
	got, err := directories(d, []any{map[string]any{"path": "teams/*/dev"}, map[string]any{"path": "teams/b/dev", "exclude": true}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "teams/a/dev" {
		t.Errorf("got %v: want teams/a/dev (b excluded, .hidden hidden, c/dev a file)", got)
	}
}

// TestRenderTemplate: Go templates with the path parameters Argo CD v3.2
// documents; a missing key is an error with missingkey=error.
func TestRenderTemplate(t *testing.T) {
	params := map[string]any{"path": pathParams("teams/shop_x/dev")}
	cases := []struct {
		in, want string
		err      bool
	}{
		{"team-{{index .path.segments 1}}", "team-shop_x", false},
		{"{{.path.basename}}/{{.path.basenameNormalized}}", "dev/dev", false},
		{"{{.path.path}}", "teams/shop_x/dev", false},
		{"{{.path.nothing}}", "", true},
		{"plain", "plain", false},
	}
	for _, tc := range cases {
		got, err := render(tc.in, params, []string{"missingkey=error"})
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("%q: got %v, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
	if p := pathParams("a/b_c"); p["basenameNormalized"] != "b-c" {
		t.Errorf("basenameNormalized %v", p["basenameNormalized"])
	}
}

// TestEditAsArgoCD: the kustomization is edited as Argo CD's repo server
// does (namespace, annotations with envsubst, components), in memory only;
// an annotation the kustomization has already is refused, as `kustomize
// edit add annotation` does without --force.
func TestEditAsArgoCD(t *testing.T) {
	d := t.TempDir()
	write(t, d, "app/kustomization.yaml", "resources: [cm.yaml]\n")
	write(t, d, "app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
	write(t, d, "comp/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels: {from: component}\n")
	objs, err := Build(filepath.Join(d, "app"), &Kustomize{Namespace: "team", Envsubst: true,
		CommonAnnotations: map[string]string{"rev": "${ARGOCD_APP_REVISION}"}, Components: []string{"../comp"}}, map[string]string{"ARGOCD_APP_REVISION": "abc"})
	if err != nil {
		t.Fatal(err)
	}
	u := objs[0]
	if u.GetNamespace() != "team" || u.GetAnnotations()["rev"] != "abc" || u.GetLabels()["from"] != "component" {
		t.Errorf("got %v", u.Object)
	}
	if b, _ := os.ReadFile(filepath.Join(d, "app/kustomization.yaml")); string(b) != "resources: [cm.yaml]\n" {
		t.Errorf("the file on disk was changed: %s", b)
	}
	write(t, d, "dup/kustomization.yaml", "resources: [../app/cm.yaml]\ncommonAnnotations: {rev: x}\n")
	if _, err := Build(filepath.Join(d, "dup"), &Kustomize{CommonAnnotations: map[string]string{"rev": "y"}}, nil); err == nil || !strings.Contains(err.Error(), "commonAnnotations already has rev") {
		t.Errorf("want the duplicate refused, got %v", err)
	}
	if _, err := Build(filepath.Join(d, "app"), &Kustomize{Components: []string{"../missing"}}, nil); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing component is an error: %v", err)
	}
}

// FuzzRender: any template string either renders or fails, never panics.
func FuzzRender(f *testing.F) {
	for _, s := range []string{"team-{{index .path.segments 1}}", "{{.path.path}}", "{{", "{{index .path.segments 9}}", "x"} {
		f.Add(s)
	}
	params := map[string]any{"path": pathParams("teams/a/dev")}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = render(map[string]any{"k": []any{s}}, params, []string{"missingkey=error"})
	})
}
