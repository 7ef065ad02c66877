package ingest

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
)

// parseHWPX reads Hancom Office's OWPML (KS X 6101) package: the sections
// listed in Contents/content.hpf's spine, paragraphs of <hp:t> runs, and the
// "Outline N" (개요 N) paragraph styles of Contents/header.xml as headings.
func parseHWPX(ctx context.Context, b []byte) (*Parsed, error) {
	z, err := openZip(b, "hwpx")
	if err != nil {
		return nil, err
	}
	if m, err := z.read("META-INF/manifest.xml"); err == nil && bytes.Contains(m, []byte("encryption-data")) {
		return nil, fmt.Errorf("hwpx is password-protected")
	}
	p := &Parsed{}
	sections, title, err := hwpxSpine(z)
	if err != nil {
		return nil, err
	}
	p.Title = title
	levels := map[string]int{}
	if h, err := z.read("Contents/header.xml"); err == nil && h != nil {
		levels = hwpxOutlineStyles(h)
	}
	var path []string
	for _, name := range sections {
		x, err := z.read(name)
		if err != nil {
			return nil, err
		}
		if x == nil {
			continue
		}
		if err := hwpxSection(ctx, x, levels, &path, p); err != nil {
			return nil, fmt.Errorf("hwpx: %s: %w", name, err)
		}
	}
	return p, nil
}

func hwpxSpine(z *zipDoc) ([]string, string, error) {
	var out []string
	title := ""
	if hpf, err := z.read("Contents/content.hpf"); err == nil && hpf != nil {
		var pkg struct {
			Title string `xml:"metadata>title"`
			Items []struct {
				ID   string `xml:"id,attr"`
				Href string `xml:"href,attr"`
			} `xml:"manifest>item"`
			Refs []struct {
				IDRef string `xml:"idref,attr"`
			} `xml:"spine>itemref"`
		}
		if err := xml.Unmarshal(hpf, &pkg); err != nil {
			return nil, "", fmt.Errorf("hwpx: content.hpf: %w", err)
		}
		title = strings.TrimSpace(pkg.Title)
		href := map[string]string{}
		for _, it := range pkg.Items {
			href[it.ID] = it.Href
		}
		for _, r := range pkg.Refs {
			h := href[r.IDRef]
			if strings.HasPrefix(path.Base(h), "section") {
				out = append(out, h)
			}
		}
	}
	if len(out) == 0 {
		for _, n := range z.names {
			if strings.HasPrefix(n, "Contents/section") && strings.HasSuffix(n, ".xml") {
				out = append(out, n)
			}
		}
		sort.Slice(out, func(i, j int) bool { return sectionNum(out[i]) < sectionNum(out[j]) })
	}
	if len(out) == 0 {
		return nil, "", fmt.Errorf("hwpx: no Contents/section*.xml part")
	}
	return out, title, nil
}

func sectionNum(name string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path.Base(name), "section"), ".xml"))
	return n
}

// hwpxOutlineStyles maps paragraph style ids to outline levels.
func hwpxOutlineStyles(b []byte) map[string]int {
	var h struct {
		Styles []struct {
			ID      string `xml:"id,attr"`
			Type    string `xml:"type,attr"`
			Name    string `xml:"name,attr"`
			EngName string `xml:"engName,attr"`
		} `xml:"refList>styles>style"`
	}
	out := map[string]int{}
	if xml.Unmarshal(b, &h) != nil {
		return out
	}
	for _, s := range h.Styles {
		if s.Type != "PARA" {
			continue
		}
		for _, pre := range []string{"Outline ", "개요 "} {
			name := s.EngName
			if pre == "개요 " {
				name = s.Name
			}
			if n, ok := strings.CutPrefix(name, pre); ok {
				if l, err := strconv.Atoi(n); err == nil && l >= 1 && l <= 10 {
					out[s.ID] = l
				}
			}
		}
	}
	return out
}

func hwpxSection(ctx context.Context, b []byte, levels map[string]int, headingPath *[]string, p *Parsed) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	type para struct {
		style string
		text  strings.Builder
	}
	var stack []*para
	var cur strings.Builder
	heading := joinHeading(*headingPath)
	inText := 0
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			p.Sections = append(p.Sections, Section{Heading: heading, Text: s})
		}
		cur.Reset()
	}
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "p":
				stack = append(stack, &para{style: attr(t, "styleIDRef")})
			case "t":
				inText++
			case "tab":
				if len(stack) > 0 {
					stack[len(stack)-1].text.WriteByte('\t')
				}
			case "lineBreak":
				if len(stack) > 0 {
					stack[len(stack)-1].text.WriteByte('\n')
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText--
			case "p":
				if len(stack) == 0 {
					continue
				}
				pp := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				text := strings.TrimSpace(pp.text.String())
				if text == "" {
					continue
				}
				if level, ok := levels[pp.style]; ok && len(stack) == 0 && len([]rune(text)) <= 200 {
					flush()
					for len(*headingPath) >= level {
						*headingPath = (*headingPath)[:len(*headingPath)-1]
					}
					for len(*headingPath) < level-1 {
						*headingPath = append(*headingPath, "")
					}
					*headingPath = append(*headingPath, text)
					heading = joinHeading(*headingPath)
					if p.Title == "" && level == 1 {
						p.Title = text
					}
					continue
				}
				cur.WriteString(text)
				cur.WriteString("\n\n")
			}
		case xml.CharData:
			if inText > 0 && len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	flush()
	return nil
}
