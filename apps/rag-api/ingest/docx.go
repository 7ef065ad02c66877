package ingest

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// parseDOCX reads the main document part of a Word file with archive/zip and
// encoding/xml. Headings are found through styles.xml: a paragraph style is a
// heading if its built-in name is "heading N" or "Title", or it (or a style
// it is based on) has an outline level. Korean and other localised Word
// versions give heading styles numeric ids ("1", "2"), so the id alone says
// nothing.
func parseDOCX(ctx context.Context, b []byte) (*Parsed, error) {
	z, err := openZip(b, "docx")
	if err != nil {
		return nil, err
	}
	body, err := z.need("word/document.xml")
	if err != nil {
		return nil, err
	}
	p := &Parsed{}
	if core, err := z.read("docProps/core.xml"); err == nil && core != nil {
		p.Title = coreTitle(core)
	}
	levels := map[string]int{}
	if st, err := z.read("word/styles.xml"); err == nil && st != nil {
		levels = styleLevels(st)
	}
	if err := docxSections(ctx, body, levels, p); err != nil {
		return nil, fmt.Errorf("docx: %w", err)
	}
	return p, nil
}

func coreTitle(b []byte) string {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "title" {
			var s string
			if d.DecodeElement(&s, &se) == nil {
				return strings.TrimSpace(s)
			}
			return ""
		}
	}
}

type wordStyle struct {
	ID      string `xml:"styleId,attr"`
	Type    string `xml:"type,attr"`
	Name    val    `xml:"name"`
	BasedOn val    `xml:"basedOn"`
	Outline val    `xml:"pPr>outlineLvl"`
}

type val struct {
	Val string `xml:"val,attr"`
}

// styleLevels maps paragraph style ids to heading levels (1-9; 0 for Title).
func styleLevels(b []byte) map[string]int {
	var doc struct {
		Styles []wordStyle `xml:"style"`
	}
	out := map[string]int{}
	if xml.Unmarshal(b, &doc) != nil {
		return out
	}
	byID := map[string]wordStyle{}
	for _, s := range doc.Styles {
		if s.Type == "" || s.Type == "paragraph" {
			byID[s.ID] = s
		}
	}
	var level func(id string, depth int) (int, bool)
	level = func(id string, depth int) (int, bool) {
		s, ok := byID[id]
		if !ok || depth > 16 {
			return 0, false
		}
		name := strings.ToLower(strings.TrimSpace(s.Name.Val))
		if name == "title" {
			return 0, true
		}
		if n, ok := strings.CutPrefix(name, "heading "); ok {
			if l, err := strconv.Atoi(n); err == nil && l >= 1 && l <= 9 {
				return l, true
			}
		}
		if s.Outline.Val != "" {
			if l, err := strconv.Atoi(s.Outline.Val); err == nil && l >= 0 && l <= 8 {
				return l + 1, true
			}
		}
		if s.BasedOn.Val != "" {
			return level(s.BasedOn.Val, depth+1)
		}
		return 0, false
	}
	for id := range byID {
		if l, ok := level(id, 0); ok {
			out[id] = l
		}
	}
	return out
}

// headingOf reports a paragraph's heading level from its style (through
// styles.xml, else the English style id "Heading2") or its own outline level.
func headingOf(style, outline string, levels map[string]int) (int, bool) {
	if outline != "" {
		if l, err := strconv.Atoi(outline); err == nil && l >= 0 && l <= 8 {
			return l + 1, true
		}
	}
	if l, ok := levels[style]; ok {
		return l, true
	}
	ls := strings.ToLower(style)
	if ls == "title" {
		return 0, true
	}
	if n, ok := strings.CutPrefix(ls, "heading"); ok {
		if l, err := strconv.Atoi(n); err == nil && l >= 1 && l <= 9 {
			return l, true
		}
	}
	return 0, false
}

func docxSections(ctx context.Context, b []byte, levels map[string]int, p *Parsed) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	var para, cur strings.Builder
	var path []string
	heading, style, outline := "", "", ""
	inText := false
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			p.Sections = append(p.Sections, Section{Heading: heading, Text: s})
		}
		cur.Reset()
	}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("word/document.xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "p":
				para.Reset()
				style, outline = "", ""
			case "pStyle":
				style = attrVal(t)
			case "outlineLvl":
				outline = attrVal(t)
			case "t":
				inText = true
			case "tab":
				para.WriteByte('\t')
			case "br", "cr":
				para.WriteByte('\n')
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				text := strings.TrimSpace(para.String())
				if text == "" {
					continue
				}
				if level, ok := headingOf(style, outline, levels); ok {
					flush()
					if level == 0 {
						if p.Title == "" {
							p.Title = text
						}
						path = path[:0]
						heading = text
						continue
					}
					for len(path) >= level {
						path = path[:len(path)-1]
					}
					for len(path) < level-1 {
						path = append(path, "")
					}
					path = append(path, text)
					heading = joinHeading(path)
					if p.Title == "" && level == 1 {
						p.Title = text
					}
					continue
				}
				cur.WriteString(text)
				cur.WriteString("\n\n")
			}
		case xml.CharData:
			if inText {
				para.Write(t)
			}
		}
	}
	flush()
	return nil
}

func attrVal(t xml.StartElement) string {
	for _, a := range t.Attr {
		if a.Name.Local == "val" {
			return a.Value
		}
	}
	return ""
}
