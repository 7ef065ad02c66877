package ingest

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// parseText treats the file as UTF-8 paragraphs. Invalid UTF-8 is a reason to
// skip: it is almost always a binary file with a text extension.
func parseText(b []byte) (*Parsed, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("not valid UTF-8 text")
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, fmt.Errorf("contains NUL bytes: binary file")
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	return &Parsed{Sections: []Section{{Text: s}}}, nil
}

// frontMatter is the YAML header a Markdown file may start with.
type frontMatter struct {
	Title  string   `yaml:"title"`
	Groups []string `yaml:"groups"`
	ACL    []string `yaml:"acl"`
}

// splitFrontMatter separates a leading "---" YAML block from the body.
func splitFrontMatter(b []byte) (frontMatter, []byte, error) {
	var fm frontMatter
	if !bytes.HasPrefix(b, []byte("---\n")) && !bytes.HasPrefix(b, []byte("---\r\n")) {
		return fm, b, nil
	}
	rest := b[bytes.IndexByte(b, '\n')+1:]
	end := bytes.Index(rest, []byte("\n---"))
	if end < 0 {
		return fm, b, nil // a lone thematic break, not front matter
	}
	if err := yaml.Unmarshal(rest[:end], &fm); err != nil {
		return fm, b, fmt.Errorf("front matter: %w", err)
	}
	body := rest[end+4:]
	if i := bytes.IndexByte(body, '\n'); i >= 0 {
		body = body[i+1:]
	} else {
		body = nil
	}
	fm.Groups = append(fm.Groups, fm.ACL...)
	return fm, body, nil
}
