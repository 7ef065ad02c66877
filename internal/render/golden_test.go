package render_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/server"
	"github.com/unsilo/unsilo/internal/catalog"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

var update = flag.Bool("update", os.Getenv("UPDATE_GOLDEN") != "", "rewrite the golden renders (make golden)")

const repo = "../.."

// renderExample renders every XR of an example file in-process once, as
// crossplane render does (the fidelity test compares the two).
func renderExample(t *testing.T, fn render.Runner, cat *catalog.Catalog, file string) []byte {
	return renderFile(t, fn, cat, file, render.Render)
}

// renderConverged renders every XR of an example file to convergence: the
// golden files hold everything the XR will own once AWS has answered.
func renderConverged(t *testing.T, fn render.Runner, cat *catalog.Catalog, file string) []byte {
	return renderFile(t, fn, cat, file, render.Converge)
}

func renderFile(t *testing.T, fn render.Runner, cat *catalog.Catalog, file string,
	run func(context.Context, render.Runner, render.Input) (*render.Output, error)) []byte {
	t.Helper()
	objs, err := manifest.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	avail := withPlatform(t, objs)
	var buf bytes.Buffer
	for _, o := range objs {
		if !cat.IsXR(o.Unstructured) {
			continue
		}
		out, err := run(context.Background(), fn, render.Input{XR: o.Unstructured, Available: avail})
		if err != nil {
			t.Fatalf("%s: %v", o.Where(), err)
		}
		if err := render.Encode(&buf, out); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// withPlatform is what an example's XRs see: the file's objects and the
// platform's control plane (catalog.AddPlatform), as verify renders them.
func withPlatform(t *testing.T, objs []manifest.Object) []unstructured.Unstructured {
	t.Helper()
	platform, err := catalog.Platform(repo)
	if err != nil {
		t.Fatal(err)
	}
	w := map[string][]unstructured.Unstructured{"": nil}
	for _, o := range objs {
		w[""] = append(w[""], *o.Unstructured)
	}
	catalog.AddPlatform(w, platform)
	return w[""]
}

func examples(t *testing.T) (*catalog.Catalog, []string) {
	t.Helper()
	cat, err := catalog.Load(repo)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := cat.Examples()
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) == 0 {
		t.Fatal("no examples found")
	}
	return cat, ex
}

func newServer(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.New(slog.New(slog.NewTextHandler(io.Discard, nil)), server.APIs()...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGolden fails when an example's rendered resources differ from the
// golden file beside it, so a pull request shows exactly which AWS
// resources change. Refresh with `make golden`.
func TestGolden(t *testing.T) {
	cat, ex := examples(t)
	fn := newServer(t)
	for _, file := range ex {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(file)))+"/"+filepath.Base(file), func(t *testing.T) {
			got := renderConverged(t, fn, cat, file)
			golden := catalog.GoldenPath(file)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v: run `make golden` to create it", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("%s is stale; review the change and run `make golden` (-want +got):\n%s", golden, d)
			}
		})
	}
}
