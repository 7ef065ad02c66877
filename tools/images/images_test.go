//go:build publish

package main

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// TestLogShipperRunsOnItsArm64Image builds log-shipper's linux/arm64 image
// (DuckDB linked against Debian's arm64 cross glibc, which the image
// carries) and runs the binary from the image's own file system under
// qemu-aarch64: the libraries it was linked against are the ones it finds.
func TestLogShipperRunsOnItsArm64Image(t *testing.T) {
	root := os.Getenv("REPO_ROOT")
	if root == "" {
		t.Fatal("set REPO_ROOT (make test-package does)")
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Fatal("qemu-aarch64-static is missing: install tools/images/apt-packages.txt")
	}
	p := v1.Platform{OS: "linux", Architecture: "arm64"}
	idx, err := buildOne(context.Background(), root, "./apps/log-shipper", "test", []v1.Platform{p})
	if err != nil {
		t.Fatal(err)
	}
	img, err := forPlatform(idx, p)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Architecture != "arm64" || len(cf.Config.Entrypoint) == 0 {
		t.Fatalf("config %+v", cf.Config)
	}
	rootfs := t.TempDir()
	extract(t, img, rootfs)
	cmd := exec.Command(qemu, "-L", rootfs, filepath.Join(rootfs, cf.Config.Entrypoint[0]), "--help")
	cmd.Env = cf.Config.Env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Usage:") {
		t.Fatalf("log-shipper does not run from its arm64 image: %v\n%s", err, out)
	}
}

func extract(t *testing.T, img v1.Image, dir string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		case tar.TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			_ = os.Symlink(h.Linkname, dst)
		}
	}
}
