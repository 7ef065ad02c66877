package ingest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Who may read a file is the intersection of every rule that applies to it:
//
//   - each ".acl" file in its folder and in every folder above it, up to the
//     filesystem root (or the bucket root on S3), whatever folder is ingested;
//   - a sidecar "<file>.acl" next to it;
//   - the document's own metadata (Markdown front matter groups:/acl:, HTML
//     <meta name="acl"> or name="groups").
//
// No rule at all means public. A rule can only narrow access, never widen
// it. Anything that cannot be read with certainty — an ACL file naming no
// group, a malformed line, an unknown ACL-like front-matter key, rules with
// no group in common — refuses the file with the reason, so nothing becomes
// readable by mistake.

// aclLayer is one rule: where it came from and the groups it allows.
type aclLayer struct {
	origin string
	groups []string
}

// parseACLFile reads an ACL file: one group per line or comma-separated,
// '#' starts a comment.
func parseACLFile(origin string, b []byte) ([]string, error) {
	b = bytes.TrimPrefix(b, utf8BOM)
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%s: not UTF-8 text", origin)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for _, g := range strings.Split(line, ",") {
			g = strings.TrimSpace(g)
			if g == "" {
				continue
			}
			if err := checkGroup(g); err != nil {
				return nil, fmt.Errorf("%s line %d: %w", origin, n, err)
			}
			out = append(out, g)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s names no group: list the groups that may read (one per line), or delete the file to keep the folder's rule", origin)
	}
	return normGroups(out), nil
}

// checkGroup rejects names that are almost certainly a mistake: "hr finance"
// is two groups missing a comma, not one group.
func checkGroup(g string) error {
	for _, r := range g {
		if unicode.IsSpace(r) {
			return fmt.Errorf("group %q contains a space (separate groups with commas or new lines)", g)
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return fmt.Errorf("group %q contains a control or undecodable character", g)
		}
	}
	return nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func normGroups(gs []string) []string {
	if len(gs) == 0 {
		return nil
	}
	out := slices.Clone(gs)
	slices.Sort(out)
	return slices.Compact(out)
}

// effectiveACL intersects the layers. No layer means public; an empty
// intersection is an error, since nobody could read the file.
func effectiveACL(layers []aclLayer) (public bool, groups []string, err error) {
	if len(layers) == 0 {
		return true, nil, nil
	}
	groups = layers[0].groups
	for _, l := range layers[1:] {
		var both []string
		for _, g := range groups {
			if slices.Contains(l.groups, g) {
				both = append(both, g)
			}
		}
		if len(both) == 0 {
			var desc []string
			for _, l := range layers {
				desc = append(desc, fmt.Sprintf("%s allows %s", l.origin, strings.Join(l.groups, ",")))
			}
			return false, nil, fmt.Errorf("no group may read it: %s", strings.Join(desc, "; "))
		}
		groups = both
	}
	return false, groups, nil
}

// dirACL is the folder rules of one directory, root first.
type dirACL struct {
	layers []aclLayer
	digest []byte
	err    error
}

// aclResolver resolves folder rules for local files, caching per directory.
type aclResolver struct {
	dirs map[string]*dirACL
}

func newACLResolver() *aclResolver { return &aclResolver{dirs: map[string]*dirACL{}} }

func (r *aclResolver) dir(dir string) *dirACL {
	if d, ok := r.dirs[dir]; ok {
		return d
	}
	d := &dirACL{}
	if parent := filepath.Dir(dir); parent != dir {
		p := r.dir(parent)
		d.layers, d.digest, d.err = p.layers, p.digest, p.err
	}
	if d.err == nil {
		name := filepath.Join(dir, ".acl")
		b, err := os.ReadFile(name)
		switch {
		case err == nil:
			groups, perr := parseACLFile(name, b)
			d.err = perr
			d.layers = append(slices.Clip(d.layers), aclLayer{origin: name, groups: groups})
			d.digest = digest(d.digest, name, b)
		case errors.Is(err, fs.ErrNotExist):
		default:
			// Unreadable rules are not absent rules.
			d.err = fmt.Errorf("cannot read %s: %w", name, err)
		}
	}
	r.dirs[dir] = d
	return d
}

// forFile returns the folder and sidecar rules of path, a digest of the ACL
// files that apply (to notice changes) and any error reading them.
func (r *aclResolver) forFile(path string) ([]aclLayer, string, error) {
	d := r.dir(filepath.Dir(path))
	if d.err != nil {
		return nil, hex.EncodeToString(digest(d.digest, "error", []byte(d.err.Error()))), d.err
	}
	layers, dg := d.layers, d.digest
	side := path + ".acl"
	b, err := os.ReadFile(side)
	switch {
	case err == nil:
		groups, perr := parseACLFile(side, b)
		dg = digest(dg, side, b)
		if perr != nil {
			return nil, hex.EncodeToString(dg), perr
		}
		layers = append(slices.Clip(layers), aclLayer{origin: side, groups: groups})
	case errors.Is(err, fs.ErrNotExist):
	default:
		err = fmt.Errorf("cannot read %s: %w", side, err)
		return nil, hex.EncodeToString(digest(dg, "error", []byte(err.Error()))), err
	}
	return layers, hex.EncodeToString(digest(dg, "", nil)), nil
}

func digest(prev []byte, name string, content []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write(content)
	return h.Sum(nil)
}
