package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestACLsFailClosed is one case per way an ACL used to fail open (and the
// rules around them): each builds a tree, ingests a target and checks the
// groups of one file, or that the file was refused with a reason.
func TestACLsFailClosed(t *testing.T) {
	type file struct{ path, content string }
	cases := []struct {
		name   string
		files  []file
		target string // relative to the tree; "" is the tree itself
		check  string // file whose outcome is checked
		groups string // its groups, comma-joined; "public" for public
		refuse string // or: a substring of its refusal
	}{
		{name: "a subfolder ingest keeps the .acl above it",
			files:  []file{{".acl", "hr\n"}, {"sub/a.md", "# A\n\nalpha"}},
			target: "sub", check: "a.md", groups: "hr"},
		{name: "a single-file ingest keeps its folder's .acl",
			files:  []file{{"docs/.acl", "hr\n"}, {"docs/a.md", "# A\n\nalpha"}},
			target: "docs/a.md", check: "a.md", groups: "hr"},
		{name: "no rule anywhere is public",
			files: []file{{"a.md", "# A\n\nalpha"}}, check: "a.md", groups: "public"},
		{name: "an empty sidecar does not override the folder",
			files: []file{{".acl", "hr\n"}, {"a.md", "# A\n\nalpha"}, {"a.md.acl", ""}},
			check: "a.md", refuse: "names no group"},
		{name: "a comment-only sidecar does not override the folder",
			files: []file{{".acl", "hr\n"}, {"a.md", "# A\n\nalpha"}, {"a.md.acl", "# nobody yet\n"}},
			check: "a.md", refuse: "names no group"},
		{name: "an empty folder .acl is refused, not public",
			files: []file{{".acl", "\n\n"}, {"a.md", "# A\n\nalpha"}},
			check: "a.md", refuse: "names no group"},
		{name: "a space inside a group name is a missing comma",
			files: []file{{".acl", "hr finance\n"}, {"a.md", "# A\n\nalpha"}},
			check: "a.md", refuse: "contains a space"},
		{name: "a front-matter typo (group:) refuses the file",
			files: []file{{"a.md", "---\ngroup: [hr]\n---\n# A\n\nalpha"}},
			check: "a.md", refuse: `"group" looks like an access rule`},
		{name: "a byte-order mark before --- still reads the front matter",
			files: []file{{"a.md", "\ufeff---\ngroups: [hr]\n---\n# A\n\nalpha"}},
			check: "a.md", groups: "hr"},
		{name: "front matter that never closes is refused",
			files: []file{{"a.md", "---\ngroups: [hr]\n# A\n\nalpha"}},
			check: "a.md", refuse: "never closed"},
		{name: "front matter with an empty groups list is refused",
			files: []file{{"a.md", "---\ngroups: []\n---\n# A\n\nalpha"}},
			check: "a.md", refuse: "lists no group"},
		{name: "groups as a comma-separated string are read",
			files: []file{{"a.md", "---\ngroups: hr, finance\n---\n# A\n\nalpha"}},
			check: "a.md", groups: "finance,hr"},
		{name: "<meta name=\"ACL\"> in capitals is honoured",
			files: []file{{"a.html", `<html><head><META NAME="ACL" CONTENT="hr"></head><body><h1>A</h1><p>alpha</p></body></html>`}},
			check: "a.html", groups: "hr"},
		{name: "an empty <meta name=acl> is refused",
			files: []file{{"a.html", `<meta name="acl" content=""><h1>A</h1><p>alpha</p>`}},
			check: "a.html", refuse: "lists no group"},
		{name: "document groups cannot widen a stricter folder ACL",
			files: []file{{".acl", "hr\n"}, {"a.md", "---\ngroups: [hr, everyone]\n---\n# A\n\nalpha"}},
			check: "a.md", groups: "hr"},
		{name: "document groups narrow the folder's",
			files: []file{{".acl", "hr, finance\n"}, {"a.md", "---\ngroups: [finance]\n---\n# A\n\nalpha"}},
			check: "a.md", groups: "finance"},
		{name: "nested folders intersect",
			files:  []file{{".acl", "hr, finance, legal\n"}, {"x/.acl", "hr, legal\n"}, {"x/y/a.md", "# A\n\nalpha"}, {"x/y/a.md.acl", "legal, it"}},
			target: "x/y", check: "a.md", groups: "legal"},
		{name: "rules with nothing in common are refused",
			files: []file{{".acl", "hr\n"}, {"a.md.acl", "finance\n"}, {"a.md", "# A\n\nalpha"}},
			check: "a.md", refuse: "no group may read it"},
		{name: "an ACL file that cannot be read is not an absent one",
			files: []file{{".acl/x", "hr"}, {"a.md", "# A\n\nalpha"}},
			check: "a.md", refuse: "cannot read"},
		{name: "a sidecar of a BOM-prefixed ACL file reads",
			files: []file{{"a.md", "# A\n\nalpha"}, {"a.md.acl", "\ufeffhr\r\nfinance\r\n"}},
			check: "a.md", groups: "finance,hr"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range c.files {
				write(t, filepath.Join(root, f.path), []byte(f.content))
			}
			in, ix := newIngester(t)
			rep, err := in.Path(context.Background(), filepath.Join(root, c.target))
			if err != nil {
				t.Fatal(err)
			}
			got := allChunks(t, ix)[c.check]
			why := reasons(rep)[c.check]
			if c.refuse != "" {
				if len(got) != 0 || !strings.Contains(why, c.refuse) {
					t.Fatalf("want refusal mentioning %q; got chunks %+v, reason %q", c.refuse, got, why)
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("not indexed: %q", why)
			}
			desc := strings.Join(got[0].Groups, ",")
			if got[0].Public {
				desc = "public"
			}
			if desc != c.groups {
				t.Fatalf("groups %q, want %q", desc, c.groups)
			}
		})
	}
}

// TestTighteningRemovesChunksEvenIfReparseFails: the ACL is tightened and the
// file is replaced by one that no longer parses; nothing of it may remain
// readable under the old, wider rule.
func TestTighteningRemovesChunksEvenIfReparseFails(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a.md"), []byte("# Salaries\n\nThe salary table is attached."))
	in, ix := newIngester(t)
	if _, err := in.Path(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	if c := allChunks(t, ix)["a.md"]; len(c) != 1 || !c[0].Public {
		t.Fatalf("setup: %+v", c)
	}
	write(t, filepath.Join(root, ".acl"), []byte("hr\n"))
	write(t, filepath.Join(root, "a.md"), []byte("# Salaries\n\n\xff\xfe not UTF-8 any more"))
	rep, err := in.Path(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if c := allChunks(t, ix)["a.md"]; len(c) != 0 {
		t.Fatalf("old chunks kept: %+v", c)
	}
	if !strings.Contains(reasons(rep)["a.md"], "UTF-8") {
		t.Fatalf("refusal not reported: %+v", rep.Skipped)
	}
	// And the other way: the content is unchanged, only the rule tightens:
	// the stored chunks take the new rule without a parse.
	write(t, filepath.Join(root, "b.md"), []byte("# Plans\n\nThe plan is secret."))
	if _, err := in.Path(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "b.md.acl"), []byte("hr\n"))
	write(t, filepath.Join(root, ".acl"), []byte("hr, exec\n"))
	if _, err := in.Path(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	if c := allChunks(t, ix)["b.md"]; len(c) != 1 || c[0].Public || strings.Join(c[0].Groups, ",") != "hr" {
		t.Fatalf("re-ACL: %+v", c)
	}
	if err := os.Remove(filepath.Join(root, "b.md.acl")); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Path(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	if c := allChunks(t, ix)["b.md"]; len(c) != 1 || strings.Join(c[0].Groups, ",") != "exec,hr" {
		t.Fatalf("sidecar removed: %+v", c)
	}
}
