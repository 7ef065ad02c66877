package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// skipped elements never hold content a reader came for.
var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Nav: true, atom.Template: true,
	atom.Svg: true, atom.Form: true, atom.Iframe: true,
}

var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Li: true, atom.Tr: true, atom.Br: true, atom.Section: true, atom.Article: true,
	atom.Pre: true, atom.Blockquote: true, atom.Table: true, atom.Ul: true, atom.Ol: true, atom.Main: true,
	atom.Header: true, atom.Footer: true, atom.Dd: true, atom.Dt: true, atom.Hr: true,
}

// parseHTML streams the tokens (no DOM: linear time on hostile nesting and
// interruptible), starts a section at every h1..h6 and drops markup that is
// never content (scripts, styles, navigation, forms, titles).
//
// Headings close as a browser closes them: any h1..h6 end tag ends the open
// heading (so "<h1>Guide</h2>" is a heading, not the start of a heading that
// swallows the rest of the page) and a heading opened inside another ends the
// first. The title is collected apart from headings, so a <title> met inside
// a heading cannot take the heading's text with it.
func parseHTML(ctx context.Context, b []byte) (*Parsed, error) {
	z := html.NewTokenizer(bytes.NewReader(bytes.TrimPrefix(b, utf8BOM)))
	p := &Parsed{}
	var path []string
	heading := ""
	var cur, capture, title strings.Builder
	open := atom.Atom(0) // the h1..h6 whose text is being collected
	inTitle := false     // <title> text is metadata, never body
	var skip atom.Atom
	skipDepth := 0
	flush := func() {
		if s := strings.TrimSpace(collapseSpaces(cur.String())); s != "" {
			p.Sections = append(p.Sections, Section{Heading: heading, Text: s})
		}
		cur.Reset()
	}
	closeHeading := func() {
		level := headingLevel(open)
		t := strings.TrimSpace(collapseSpaces(capture.String()))
		for len(path) >= level {
			path = path[:len(path)-1]
		}
		for len(path) < level-1 {
			path = append(path, "")
		}
		path = append(path, t)
		heading = joinHeading(path)
		if p.Title == "" && level == 1 {
			p.Title = t
		}
		open = 0
	}
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		tt := z.Next()
		if tt == html.ErrorToken {
			if errors.Is(z.Err(), io.EOF) {
				break
			}
			return nil, fmt.Errorf("html: %w", z.Err())
		}
		tok := z.Token()
		if skipDepth > 0 {
			switch {
			case tt == html.StartTagToken && tok.DataAtom == skip:
				skipDepth++
			case tt == html.EndTagToken && tok.DataAtom == skip:
				skipDepth--
			}
			continue
		}
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			// The tokenizer reads a <title>'s content as text up to </title>
			// even when written <title/>, as browsers do: both forms open it.
			a := tok.DataAtom
			switch {
			case a == atom.Meta:
				metaACL(tok, p)
			case skipped[a] && tt == html.StartTagToken:
				skip, skipDepth = a, 1
			case a == atom.Title:
				inTitle = true
				title.Reset()
			case headingLevel(a) > 0 && tt == html.StartTagToken:
				if open != 0 {
					closeHeading()
				}
				flush()
				open = a
				capture.Reset()
			case a == atom.Td || a == atom.Th:
				cur.WriteString(" ")
			case blocks[a]:
				cur.WriteString("\n\n")
			}
		case html.EndTagToken:
			a := tok.DataAtom
			switch {
			case a == atom.Title:
				if inTitle && p.Title == "" {
					p.Title = strings.TrimSpace(collapseSpaces(title.String()))
				}
				inTitle = false
			case headingLevel(a) > 0 && open != 0:
				closeHeading()
			case open == 0 && blocks[a]:
				cur.WriteString("\n\n")
			}
		case html.TextToken:
			switch {
			case inTitle:
				title.WriteString(tok.Data)
			case open != 0:
				capture.WriteString(tok.Data)
			default:
				cur.WriteString(tok.Data)
			}
		}
	}
	if open != 0 {
		cur.WriteString(capture.String()) // a heading never closed: keep its text
	}
	flush()
	return p, nil
}

func headingLevel(a atom.Atom) int {
	switch a {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

// metaACL reads <meta name="acl"|"groups" content="a,b">; the name is
// matched without regard to case, as HTML attribute values of this kind are.
func metaACL(tok html.Token, p *Parsed) {
	name, content, hasContent := "", "", false
	for _, a := range tok.Attr {
		switch strings.ToLower(a.Key) {
		case "name":
			name = strings.ToLower(strings.TrimSpace(a.Val))
		case "content":
			content, hasContent = a.Val, true
		}
	}
	if name != "acl" && name != "groups" {
		return
	}
	p.DocACL = true
	gs, err := groupsValue(`<meta name="`+name+`">`, content)
	switch {
	case err != nil:
		p.ACLErr = err
	case !hasContent || len(gs) == 0:
		p.ACLErr = fmt.Errorf(`<meta name="%s"> lists no group: nobody could read it`, name)
	default:
		p.Groups = append(p.Groups, gs...)
	}
}

// collapseSpaces squeezes runs of spaces and tabs but keeps paragraph breaks.
func collapseSpaces(s string) string {
	var b strings.Builder
	blank := 0
	for _, l := range strings.Split(s, "\n") {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			if blank > 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteString(" ")
			}
		}
		blank = 0
		b.WriteString(l)
	}
	return b.String()
}
