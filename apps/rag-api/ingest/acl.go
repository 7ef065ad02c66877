package ingest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Access groups for a file come from, in order of precedence:
//  1. a sidecar "<file>.acl" next to it,
//  2. the document itself (Markdown front matter "groups:"/"acl:", HTML <meta name="acl">),
//  3. a ".acl" file in its directory or the nearest parent up to the ingest root.
// An ACL file holds one group per line or comma-separated; '#' starts a comment.
// No groups at all means the file is public.

func parseACL(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for _, g := range strings.Split(line, ",") {
			if g = strings.TrimSpace(g); g != "" {
				out = append(out, g)
			}
		}
	}
	return normGroups(out)
}

func normGroups(gs []string) []string {
	if len(gs) == 0 {
		return nil
	}
	sort.Strings(gs)
	out := gs[:0]
	for i, g := range gs {
		if i == 0 || g != gs[i-1] {
			out = append(out, g)
		}
	}
	return out
}

// aclFor resolves groups for path under root (see the package comment above).
func aclFor(root, path string, inDoc []string) ([]string, []byte) {
	if b, err := os.ReadFile(path + ".acl"); err == nil {
		return parseACL(b), b
	}
	if len(inDoc) > 0 {
		return normGroups(append([]string(nil), inDoc...)), nil
	}
	dir := filepath.Dir(path)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, ".acl")); err == nil {
			return parseACL(b), b
		}
		if dir == root || !strings.HasPrefix(dir, root) {
			return nil, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, nil
		}
		dir = parent
	}
}
