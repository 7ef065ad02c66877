package crds

import (
	"os"
	"testing"

	"golang.org/x/mod/modfile"
)

// TestProviderVersionMatchesGoMod keeps the schemas verify checks against in
// step with the Go types the functions compose.
func TestProviderVersionMatchesGoMod(t *testing.T) {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, s := range Sources {
		want[s.Module] = s.Version
	}
	found := false
	for _, r := range f.Require {
		if v, ok := want[r.Mod.Path]; ok {
			found = true
			if v != r.Mod.Version {
				t.Errorf("crds.Sources pins %s %s but go.mod requires %s", r.Mod.Path, v, r.Mod.Version)
			}
		}
	}
	if !found {
		t.Error("go.mod requires none of the CRD source modules; provider-aws must be there")
	}
}
