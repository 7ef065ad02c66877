package plan

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unsilo/unsilo/functions/server"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

// TestPlanGolden pins what a reviewer reads for the prod network example.
// Refresh with `make golden`.
func TestPlanGolden(t *testing.T) {
	fn, err := server.New(slog.New(slog.NewTextHandler(io.Discard, nil)), server.APIs()...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.ReadFile("../../compositions/network/examples/prod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := render.Render(context.Background(), fn, render.Input{XR: objs[0].Unstructured})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	failed := XR{ID: "Network/team/broken", Where: "broken.yaml:1", Err: "spec.cidr: too small"}
	if err := Write(&buf, []XR{{ID: objs[0].ID(), Where: "prod.yaml:3", Rows: Rows(out)}, failed}); err != nil {
		t.Fatal(err)
	}
	golden := "testdata/prod.plan.txt"
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), buf.String()); d != "" {
		t.Errorf("plan changed; run `make golden` if intended (-want +got):\n%s", d)
	}
}
