package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes the CLI in dir with args and returns stdout, stderr and
// whether it reported findings.
func run(t *testing.T, dir string, args ...string) (string, string, bool) {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	c := root()
	var out, errb bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&errb)
	c.SetArgs(args)
	err := c.Execute()
	if err != nil && !errors.Is(err, errFindings) {
		t.Fatalf("unsilo %v: %v\n%s", args, err, errb.String())
	}
	return out.String(), errb.String(), errors.Is(err, errFindings)
}

// TestVerifyPath: a PATH means "check this part of the repo the way the
// whole is checked". From the root, `.` is the whole (no Helm template,
// values file or workflow taken for a manifest); a team's claim is judged
// with its Network and its environment's settings, as the cluster gets it;
// a file nothing syncs is checked on its own, and its findings are shown.
func TestVerifyPath(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole verify three times")
	}
	repo, _ := filepath.Abs("../..")
	cases := []struct {
		reason   string
		args     []string
		findings bool
		want     string
	}{
		{"the whole repo from its root", []string{"verify", "--main", "HEAD", "."}, false, "0 of them in ."},
		{"a claim sees its Network and its environment's lake", []string{"verify", "--main", "HEAD", "teams/example-team/dev/portal.yaml"}, false, "0 of them in teams/example-team/dev/portal.yaml"},
		{"a loose file is checked on its own", []string{"verify", "--main", "HEAD", "internal/verify/testdata/bad-web.yaml"}, true, "internal/verify/testdata/bad-web.yaml:1: WebPortal/shop/orphan"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args[3:], " "), func(t *testing.T) {
			out, errOut, findings := run(t, repo, tc.args...)
			if findings != tc.findings || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("%s: findings=%v (want %v), want %q in:\n%s%s", tc.reason, findings, tc.findings, tc.want, out, errOut)
			}
			if tc.args[3] == "." && (strings.Contains(out, "templates/") || strings.Contains(out, ".github/")) {
				t.Errorf("a chart template or workflow was taken for a manifest:\n%s", out)
			}
		})
	}
}

func TestUnder(t *testing.T) {
	root, _ := filepath.Abs("../..")
	cases := []struct {
		file  string
		paths []string
		want  bool
	}{
		{"teams/example-team/dev/portal.yaml", []string{filepath.Join(root, "teams/example-team")}, true},
		{"teams/example-team/dev/portal.yaml", []string{filepath.Join(root, "teams/example")}, false},
		{"clusters/prod/infra/network.yaml@0123456789ab", []string{filepath.Join(root, "clusters/prod")}, true},
		{"platform/argocd (kustomize build)", []string{filepath.Join(root, "platform/argocd")}, true},
		{"anything", []string{root}, true},
	}
	for _, tc := range cases {
		if got := under(root, tc.file, tc.paths); got != tc.want {
			t.Errorf("under(%q, %v) = %v, want %v", tc.file, tc.paths, got, tc.want)
		}
	}
}
