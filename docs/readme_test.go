// Package docs checks that the repository's READMEs describe the tree as it
// is: every path a README names in backticks or links to must exist.
package docs

import (
	"bufio"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	codeSpan = regexp.MustCompile("`([^`\n]+)`")
	mdLink   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// A placeholder such as <env> or <api> stands for any one path segment.
	placeholder = regexp.MustCompile(`<[^>/]+>`)
	fileExt     = regexp.MustCompile(`\.(go|ya?ml|md|sql|rego|json|sh|mk|txt|tsv|jsonl|lua|tpl)$`)
	// A Markdown file named in prose, outside code spans and links.
	proseMD = regexp.MustCompile(`(?:^|[\s(])((?:[\w.-]+/)*[\w-]+\.md)\b`)
)

// tree is what the checkout holds (less build outputs), as the files and
// directories a README may name. It is walked rather than asked of git so
// that Go's test cache sees every file and directory it depends on.
type tree struct {
	paths     map[string]bool // files and their parent directories
	basenames map[string]bool
	readmes   []string
}

// skipped are never documentation and never what a README may point at.
var skipped = map[string]bool{".git": true, "bin": true, "out": true, "node_modules": true, ".cache": true}

func loadTree(t *testing.T, root string) tree {
	t.Helper()
	tr := tree{paths: map[string]bool{}, basenames: map[string]bool{}}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() && skipped[d.Name()] {
			return filepath.SkipDir
		}
		tr.paths[rel] = true
		tr.basenames[d.Name()] = true
		if !d.IsDir() && strings.HasSuffix(rel, ".md") && !strings.Contains(rel, "testdata/") {
			tr.readmes = append(tr.readmes, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking the tree: %v", err)
	}
	return tr
}

// exists reports whether p (slash-separated, placeholders allowed) names a
// tracked file or directory.
func (tr tree) exists(p string) bool {
	p = strings.TrimSuffix(path.Clean(p), "/")
	if !placeholder.MatchString(p) && !strings.ContainsAny(p, "*") {
		return tr.paths[p]
	}
	pat := placeholder.ReplaceAllString(p, "*")
	for q := range tr.paths {
		if ok, _ := path.Match(pat, q); ok {
			return true
		}
	}
	return false
}

// firstSegmentKnown reports whether p starts with a directory that exists
// under base: only then is a token with a slash a path claim rather than an
// API group, a namespace/name pair or a MIME type.
func (tr tree) firstSegmentKnown(base, p string) bool {
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "./"), "/")
	return first != "" && tr.exists(path.Join(base, first))
}

func pathLike(tok string) bool {
	if strings.ContainsAny(tok, " :=@$~\\{}|,;'\"()") || strings.Contains(tok, "://") {
		return false
	}
	return strings.Contains(tok, "/") || fileExt.MatchString(tok)
}

// check returns the paths a README line claims that do not exist. bases are
// the directories a relative path may be relative to.
func (tr tree) check(tok string, bases []string) (missing bool) {
	tok = strings.TrimPrefix(strings.SplitN(tok, "#", 2)[0], "./")
	if tok == "" || !pathLike(tok) {
		return false
	}
	if strings.Contains(tok, "*") {
		// A pattern such as *.rendered.yaml: some tracked file must match it.
		for b := range tr.basenames {
			if ok, _ := path.Match(path.Base(tok), b); ok {
				return false
			}
		}
		return true
	}
	if !strings.Contains(strings.TrimSuffix(tok, "/"), "/") {
		// A bare file name: somewhere in the tree will do (e.g. values.yaml).
		if fileExt.MatchString(tok) && !placeholder.MatchString(tok) {
			return !tr.basenames[tok]
		}
	}
	claimed := false
	for _, b := range bases {
		if tr.exists(path.Join(b, tok)) {
			return false
		}
		claimed = claimed || tr.firstSegmentKnown(b, tok)
	}
	return claimed || (fileExt.MatchString(tok) && !strings.HasPrefix(tok, "/"))
}

// TestReadmePathsExist fails when a README names, in backticks or a link, a
// file or directory the tree does not hold.
func TestReadmePathsExist(t *testing.T) {
	root := ".."
	tr := loadTree(t, root)
	for _, md := range tr.readmes {
		f, err := os.Open(filepath.Join(root, md))
		if err != nil {
			t.Fatal(err)
		}
		dir := path.Dir(md)
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			bases := []string{dir, "."}
			// In a table row, later cells may be relative to the first cell's path.
			if cells := strings.Split(line, "|"); strings.HasPrefix(strings.TrimSpace(line), "|") && len(cells) > 2 {
				for _, m := range codeSpan.FindAllStringSubmatch(cells[1], -1) {
					bases = append(bases, path.Join(dir, m[1]), m[1])
					// A layout table's first cell is the subject of its row: a
					// path there must exist, relative to the README or the root.
					if pathLike(m[1]) && !tr.exists(path.Join(dir, m[1])) && !tr.exists(m[1]) {
						t.Errorf("%s:%d: the table names `%s`, which is not in the tree", md, n, m[1])
					}
				}
			}
			for _, m := range codeSpan.FindAllStringSubmatch(line, -1) {
				if tr.check(m[1], bases) {
					t.Errorf("%s:%d: names `%s`, which is not in the tree", md, n, m[1])
				}
			}
			prose := mdLink.ReplaceAllString(codeSpan.ReplaceAllString(line, ""), "]")
			for _, m := range proseMD.FindAllStringSubmatch(prose, -1) {
				if tr.check(m[1], bases) {
					t.Errorf("%s:%d: names %s, which is not in the tree", md, n, m[1])
				}
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				target = strings.SplitN(target, "#", 2)[0]
				if !tr.exists(path.Join(dir, target)) {
					t.Errorf("%s:%d: links to %s, which is not in the tree", md, n, m[1])
				}
			}
		}
		f.Close()
	}
}

// TestCheck pins what counts as a path claim, so the README test cannot pass
// by ignoring everything.
func TestCheck(t *testing.T) {
	tr := tree{paths: map[string]bool{}, basenames: map[string]bool{}}
	for _, f := range []string{"apps/rag-api/README.md", "apps/rag-api/chart/values.yaml", "compositions/network/examples/dev.rendered.yaml"} {
		tr.basenames[path.Base(f)] = true
		for p := f; p != "."; p = path.Dir(p) {
			tr.paths[p] = true
		}
	}
	cases := []struct {
		tok     string
		bases   []string
		missing bool
		reason  string
	}{
		{"apps/rag-api/chart/", []string{"."}, false, "an existing directory"},
		{"apps/<app>/chart/", []string{"."}, false, "a placeholder matches a segment"},
		{"apps/rag-api/app.mk", []string{"."}, true, "a missing file under a known directory"},
		{"chart/values.yaml", []string{"apps/rag-api", "."}, false, "relative to the README's folder"},
		{"values.yaml", []string{"."}, false, "a bare file name found somewhere"},
		{"toolchain.md", []string{"."}, true, "a bare file name found nowhere"},
		{"*.rendered.yaml", []string{"."}, false, "a pattern some file matches"},
		{"*.golden.yaml", []string{"."}, true, "a pattern no file matches"},
		{"argoproj.io/v1alpha1", []string{"."}, false, "an API group is not a path"},
		{"kube-system/ebs-csi-controller-sa", []string{"."}, false, "a namespace/name pair is not a path"},
		{"make test", []string{"."}, false, "a command is not a path"},
	}
	for _, c := range cases {
		if got := tr.check(c.tok, c.bases); got != c.missing {
			t.Errorf("%s: check(%q) = %v, want %v", c.reason, c.tok, got, c.missing)
		}
	}
}
