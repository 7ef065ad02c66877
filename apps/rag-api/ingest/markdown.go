package ingest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// parseMarkdown splits a document at its headings with goldmark's parser, so
// each section carries the heading path it sits under ("Setup > Install").
func parseMarkdown(ctx context.Context, b []byte) (*Parsed, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("not valid UTF-8 text")
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, fmt.Errorf("contains NUL bytes: binary file")
	}
	fm, body, err := splitFrontMatter(b)
	if err != nil {
		return nil, err
	}
	root := goldmark.New().Parser().Parse(text.NewReader(body))
	p := &Parsed{Title: fm.Title, DocACL: fm.HasACL, Groups: fm.Groups, ACLErr: fm.ACLErr}
	var path []string // heading text per level
	var cur strings.Builder
	heading := ""
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			p.Sections = append(p.Sections, Section{Heading: heading, Text: s})
		}
		cur.Reset()
	}
	for n := root.FirstChild(); n != nil; n = n.NextSibling() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if h, ok := n.(*ast.Heading); ok {
			flush()
			t := strings.TrimSpace(string(nodeText(h, body)))
			if p.Title == "" && h.Level == 1 {
				p.Title = t
			}
			for len(path) >= h.Level {
				path = path[:len(path)-1]
			}
			for len(path) < h.Level-1 {
				path = append(path, "")
			}
			path = append(path, t)
			heading = joinHeading(path)
			continue
		}
		cur.Write(blockSource(n, body))
		cur.WriteString("\n\n")
	}
	flush()
	return p, nil
}

func joinHeading(path []string) string {
	var parts []string
	for _, s := range path {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " > ")
}

// nodeText concatenates the text segments below n.
func nodeText(n ast.Node, src []byte) []byte {
	var buf bytes.Buffer
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			buf.Write(t.Segment.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				buf.WriteByte(' ')
			}
		case *ast.String:
			buf.Write(t.Value)
		case *ast.CodeSpan, *ast.AutoLink:
			// children carry the text; AutoLink has its own label
			if al, ok := t.(*ast.AutoLink); ok {
				buf.Write(al.Label(src))
				return ast.WalkSkipChildren, nil
			}
		}
		return ast.WalkContinue, nil
	})
	return buf.Bytes()
}

// blockSource returns the source lines of a block, recursing into containers
// (lists, quotes) whose own Lines() are empty.
func blockSource(n ast.Node, src []byte) []byte {
	var buf bytes.Buffer
	if l := n.Lines(); l != nil && l.Len() > 0 {
		if n.Type() == ast.TypeBlock && n.Kind() == ast.KindParagraph {
			return nodeText(n, src)
		}
		for i := 0; i < l.Len(); i++ {
			seg := l.At(i)
			buf.Write(seg.Value(src))
		}
		return buf.Bytes()
	}
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		buf.Write(blockSource(c, src))
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}
