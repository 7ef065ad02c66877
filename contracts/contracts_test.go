// Package contracts_test checks that every contract package imports the
// standard library only, so that importing one never drags an app's or the
// platform's dependencies along.
package contracts_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestStdlibOnly(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		// awscalls records calls from inside the AWS SDK's middleware
		// stack, so it needs the SDK; the apps that import it (from tests
		// only) already depend on the SDK, and verify reads its files.
		if filepath.Dir(p) == "awscalls" {
			return nil
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			// Standard library import paths have no dot in their first element.
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s: contracts use the standard library only", p, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 3 {
		t.Fatalf("checked only %d files: the walk is not finding the contracts", checked)
	}
}
