//go:build fidelity

package render_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unsilo/unsilo/internal/manifest"
)

// TestFidelity runs the real `crossplane render` against the real function
// binary (serving over gRPC with --insecure) on every example and requires
// it to produce exactly what the in-process render produces. Run by
// `make test-fidelity`, which builds both binaries.
func TestFidelity(t *testing.T) {
	xp, fnBin := os.Getenv("CROSSPLANE"), os.Getenv("FUNCTION_BIN")
	if xp == "" || fnBin == "" {
		t.Fatal("set CROSSPLANE and FUNCTION_BIN (make test-fidelity does)")
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fn := exec.CommandContext(ctx, fnBin, "--insecure", "--address", addr, "--metrics-address", "")
	fn.Stderr = os.Stderr
	if err := fn.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = fn.Wait() }()
	waitListening(t, addr, 30*time.Second)

	functions := filepath.Join(t.TempDir(), "functions.yaml")
	if err := os.WriteFile(functions, []byte(fmt.Sprintf(`apiVersion: pkg.crossplane.io/v1
kind: Function
metadata:
  name: function-unsilo
  annotations:
    render.crossplane.io/runtime: Development
    render.crossplane.io/runtime-development-target: %s
spec:
  package: function-unsilo
`, addr)), 0o644); err != nil {
		t.Fatal(err)
	}

	cat, ex := examples(t)
	srv := newServer(t)
	for _, file := range ex {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(file)))+"/"+filepath.Base(file), func(t *testing.T) {
			objs, err := manifest.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			// crossplane render takes one file of required resources: the
			// example's objects and the platform's (withPlatform).
			required := filepath.Join(t.TempDir(), "required.yaml")
			var req bytes.Buffer
			for _, u := range withPlatform(t, objs) {
				j, _ := u.MarshalJSON()
				req.WriteString("---\n")
				req.Write(j)
				req.WriteString("\n")
			}
			if err := os.WriteFile(required, req.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			for _, o := range objs {
				a, ok := cat.Lookup(o.GetAPIVersion(), o.GetKind())
				if !ok {
					continue
				}
				xr := filepath.Join(t.TempDir(), "xr.yaml")
				b, _ := o.MarshalJSON()
				if err := os.WriteFile(xr, b, 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(xp, "render", xr, a.Composition.File, functions, "--required-resources", required)
				cmd.Stdout = &want
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("crossplane render %s: %v\n%s", o.Where(), err, stderr.String())
				}
			}
			real, err := manifest.Parse("crossplane render", want.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			ours, err := manifest.Parse("in-process", renderExample(t, srv, cat, file))
			if err != nil {
				t.Fatal(err)
			}
			if len(real) != len(ours) {
				t.Fatalf("crossplane render produced %d objects, in-process %d", len(real), len(ours))
			}
			for i := range real {
				if d := cmp.Diff(real[i].Object, ours[i].Object); d != "" {
					t.Errorf("object %d (%s) differs (-crossplane +in-process):\n%s", i, real[i].ID(), d)
				}
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitListening polls until the function accepts connections.
func waitListening(t *testing.T, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("function did not listen on %s within %s: %v", addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, not synchronizing on time
	}
}
