package ingest

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// parseText treats the file as paragraphs of UTF-8 (or CP949, which Korean
// Windows tools write). Anything else is a reason to skip: it is almost
// always a binary file with a text extension.
func parseText(_ context.Context, b []byte) (*Parsed, error) {
	b, err := decodeText(b)
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, fmt.Errorf("contains NUL bytes: binary file")
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	return &Parsed{Sections: []Section{{Text: s}}}, nil
}

// frontMatter is what a Markdown file's YAML header may say.
type frontMatter struct {
	Title  string
	HasACL bool
	Groups []string
	// ACLErr is set when the header cannot be read with certainty; the file
	// is then refused rather than indexed as public.
	ACLErr error
}

// aclKeys are the front-matter keys that carry groups.
var aclKeys = map[string]bool{"groups": true, "acl": true}

// aclLikeKey matches keys a person might have meant as an ACL: a misspelt
// "group:" must not silently make a file public.
var aclLikeKey = regexp.MustCompile(`(?i)^(grou?ps?|gropus|acls?|access|permissions?|perms?|allow(ed)?(_?groups)?|readers?|visibility|private|restrict(ed)?|roles?|share(d_?with)?)$`)

// splitFrontMatter separates a leading "---" YAML block from the body. A
// byte-order mark before it is ignored (editors on Windows write one).
func splitFrontMatter(b []byte) (frontMatter, []byte, error) {
	var fm frontMatter
	b = bytes.TrimPrefix(b, utf8BOM)
	first, rest, ok := bytes.Cut(b, []byte("\n"))
	if !ok || strings.TrimRight(string(first), " \t\r") != "---" {
		return fm, b, nil
	}
	end := -1
	for off := 0; off < len(rest); {
		line, _, _ := bytes.Cut(rest[off:], []byte("\n"))
		if t := strings.TrimRight(string(line), " \t\r"); t == "---" || t == "..." {
			end = off
			break
		}
		off += len(line) + 1
	}
	if end < 0 {
		// A lone thematic break, unless it opens something that looks like a
		// header: then the header is broken, and it may hold an ACL.
		if looksLikeYAMLKey(rest) {
			fm.ACLErr = fmt.Errorf("front matter opened with --- is never closed: its groups cannot be read")
		}
		return fm, b, nil
	}
	header := rest[:end]
	body := rest[end:]
	if i := bytes.IndexByte(body, '\n'); i >= 0 {
		body = body[i+1:]
	} else {
		body = nil
	}
	var m map[string]any
	if err := yaml.Unmarshal(header, &m); err != nil {
		return fm, body, fmt.Errorf("front matter is not valid YAML: %w", err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		switch lk := strings.ToLower(k); {
		case lk == "title":
			if s, ok := v.(string); ok {
				fm.Title = strings.TrimSpace(s)
			}
		case aclKeys[lk]:
			gs, err := groupsValue(k, v)
			if err != nil {
				fm.ACLErr = err
				continue
			}
			fm.HasACL = true
			fm.Groups = append(fm.Groups, gs...)
		case aclLikeKey.MatchString(k):
			fm.ACLErr = fmt.Errorf("front-matter key %q looks like an access rule but is not one (use groups: [a, b])", k)
		}
	}
	if fm.HasACL && len(fm.Groups) == 0 && fm.ACLErr == nil {
		fm.ACLErr = fmt.Errorf("front matter lists no group: nobody could read it (remove the key to keep the folder's rule)")
	}
	return fm, body, nil
}

var yamlKeyLine = regexp.MustCompile(`^\s*[A-Za-z_][\w-]*\s*:`)

func looksLikeYAMLKey(rest []byte) bool {
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	return yamlKeyLine.Match(line)
}

// groupsValue accepts a list of strings or one comma-separated string.
func groupsValue(key string, v any) ([]string, error) {
	var raw []string
	switch t := v.(type) {
	case string:
		raw = strings.Split(t, ",")
	case []any:
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("front-matter %s: entry %v is %T, want a group name", key, e, e)
			}
			raw = append(raw, s)
		}
	case nil:
	default:
		return nil, fmt.Errorf("front-matter %s is %T, want a list of group names", key, v)
	}
	var out []string
	for _, g := range raw {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		if err := checkGroup(g); err != nil {
			return nil, fmt.Errorf("front-matter %s: %w", key, err)
		}
		out = append(out, g)
	}
	return out, nil
}
