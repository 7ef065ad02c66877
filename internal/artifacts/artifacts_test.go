package artifacts

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestTagFollowsTheSource: the tag changes when, and only when, something
// the program is built from changes.
func TestTagFollowsTheSource(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.24\n")
	write("cmd/a/main.go", "package main\n\nimport _ \"example.com/m/lib\"\n\nfunc main() {}\n")
	write("lib/lib.go", "package lib\n")
	write("other/other.go", "package other\n")
	p := Program{Name: "a", Path: "./cmd/a"}
	tag := func() string {
		s, err := Tag(ctx, root, p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := tag()
	if !regexp.MustCompile(`^v0\.1\.0-s[0-9a-f]{12}$`).MatchString(first) {
		t.Fatalf("tag %q is not v0.1.0-s<12 hex> (a semver prerelease that starts with a letter)", first)
	}
	cases := []struct {
		reason string
		file   string
		body   string
		change bool
	}{
		{"a package the program does not link", "other/other.go", "package other\n\n// x\n", false},
		{"a test file", "lib/lib_test.go", "package lib\n", false},
		{"a linked package", "lib/lib.go", "package lib\n\nconst X = 1\n", true},
		{"the module's dependencies", "go.mod", "module example.com/m\n\ngo 1.25\n", true},
	}
	prev := first
	for _, tc := range cases {
		write(tc.file, tc.body)
		got := tag()
		if (got != prev) != tc.change {
			t.Errorf("%s: tag %s -> %s, want changed=%v", tc.reason, prev, got, tc.change)
		}
		prev = got
	}
}

func TestRenderRead(t *testing.T) {
	tags := map[string]string{"function-unsilo": "v0.1.0-s1", "rag-api": "v0.1.0-s2", "log-shipper": "v0.1.0-s3", "alert-bridge": "v0.1.0-s4"}
	f := filepath.Join(t.TempDir(), "a.yaml")
	if err := os.WriteFile(f, Render("127.0.0.1:5000/unsilo", tags), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"registry": "127.0.0.1:5000/unsilo", "functionPackage": "127.0.0.1:5000/unsilo/function-unsilo:v0.1.0-s1",
		"ragApiRepository": "127.0.0.1:5000/unsilo/rag-api", "ragApiTag": "v0.1.0-s2", "alertBridgeTag": "v0.1.0-s4"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
}
