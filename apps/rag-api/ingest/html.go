package ingest

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// parseHTML walks the DOM, starts a section at every h1..h6 and drops markup
// that is never content (scripts, styles, navigation, forms).
func parseHTML(b []byte) (*Parsed, error) {
	root, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	p := &Parsed{}
	var path []string
	heading := ""
	var cur strings.Builder
	flush := func() {
		if s := strings.TrimSpace(collapseSpaces(cur.String())); s != "" {
			p.Sections = append(p.Sections, Section{Heading: heading, Text: s})
		}
		cur.Reset()
	}
	var walk func(n *html.Node, depth int)
	walk = func(n *html.Node, depth int) {
		if depth > 512 { // hostile nesting
			return
		}
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "style", "noscript", "nav", "template", "svg", "form", "iframe":
				return
			case "title":
				if p.Title == "" {
					p.Title = strings.TrimSpace(textOf(n))
				}
				return
			case "meta":
				if attr(n, "name") == "acl" || attr(n, "name") == "groups" {
					for _, g := range strings.Split(attr(n, "content"), ",") {
						if g = strings.TrimSpace(g); g != "" {
							p.Groups = append(p.Groups, g)
						}
					}
				}
			case "h1", "h2", "h3", "h4", "h5", "h6":
				flush()
				level := int(n.Data[1] - '0')
				t := strings.TrimSpace(collapseSpaces(textOf(n)))
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
				return
			case "p", "div", "li", "tr", "br", "section", "article", "pre", "blockquote", "table", "ul", "ol":
				defer cur.WriteString("\n\n")
			case "td", "th":
				defer cur.WriteString(" ")
			}
		}
		if n.Type == html.TextNode {
			cur.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, depth+1)
		}
	}
	walk(root, 0)
	flush()
	return p, nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var f func(*html.Node)
	f = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			f(c)
		}
	}
	f(n)
	return b.String()
}

// collapseSpaces squeezes runs of spaces and tabs but keeps paragraph breaks.
func collapseSpaces(s string) string {
	var b strings.Builder
	lines := strings.Split(s, "\n")
	blank := 0
	for _, l := range lines {
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
