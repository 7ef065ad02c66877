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
	"unicode/utf8"
)

// parsePPTX reads slides in presentation order (presentation.xml's slide
// list through its relationships, not file names, which keep their old
// numbers when slides are moved). Each slide is a section whose page is the
// slide number and whose heading is its title (the title placeholder, or a
// short first line); speaker notes follow the slide text.
func parsePPTX(ctx context.Context, b []byte) (*Parsed, error) {
	z, err := openZip(b, "pptx")
	if err != nil {
		return nil, err
	}
	slides, err := pptxSlides(z)
	if err != nil {
		return nil, err
	}
	p := &Parsed{}
	if core, err := z.read("docProps/core.xml"); err == nil && core != nil {
		p.Title = coreTitle(core)
	}
	for i, name := range slides {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x, err := z.read(name)
		if err != nil {
			return nil, err
		}
		title, paras, err := drawingText(x)
		if err != nil {
			return nil, fmt.Errorf("pptx: %s: %w", name, err)
		}
		if notes := z.related(name, "notesSlide"); notes != "" {
			if nx, err := z.read(notes); err == nil && nx != nil {
				if _, np, err := drawingText(nx); err == nil {
					paras = append(paras, np...)
				}
			}
		}
		if title == "" && len(paras) > 0 && utf8.RuneCountInString(paras[0]) <= 80 {
			title, paras = paras[0], paras[1:]
		}
		text := strings.Join(paras, "\n\n")
		if title == "" && text == "" {
			continue
		}
		if text == "" {
			text = title
		}
		if p.Title == "" {
			p.Title = title
		}
		p.Sections = append(p.Sections, Section{Page: i + 1, Heading: title, Text: text})
	}
	return p, nil
}

type relationships struct {
	Rels []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"Relationship"`
}

// rels reads the relationships of part name ("ppt/slides/slide1.xml" ->
// "ppt/slides/_rels/slide1.xml.rels"), targets resolved to part names.
func (z *zipDoc) rels(name string) map[string][2]string {
	out := map[string][2]string{}
	b, err := z.read(path.Join(path.Dir(name), "_rels", path.Base(name)+".rels"))
	if err != nil || b == nil {
		return out
	}
	var r relationships
	if xml.Unmarshal(b, &r) != nil {
		return out
	}
	for _, rel := range r.Rels {
		t := rel.Target
		if !strings.HasPrefix(t, "/") {
			t = path.Join(path.Dir(name), t)
		}
		out[rel.ID] = [2]string{rel.Type, strings.TrimPrefix(t, "/")}
	}
	return out
}

// related returns the first part related to name by a relationship type
// ending in kind.
func (z *zipDoc) related(name, kind string) string {
	for _, r := range z.rels(name) {
		if strings.HasSuffix(r[0], "/"+kind) {
			return r[1]
		}
	}
	return ""
}

func pptxSlides(z *zipDoc) ([]string, error) {
	pres, err := z.need("ppt/presentation.xml")
	if err != nil {
		return nil, err
	}
	var doc struct {
		IDs []struct {
			RID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sldIdLst>sldId"`
	}
	if err := xml.Unmarshal(pres, &doc); err != nil {
		return nil, fmt.Errorf("pptx: presentation.xml: %w", err)
	}
	rels := z.rels("ppt/presentation.xml")
	var out []string
	for _, id := range doc.IDs {
		if r, ok := rels[id.RID]; ok && z.files[r[1]] != nil {
			out = append(out, r[1])
		}
	}
	if len(out) == 0 {
		// No usable slide list: fall back to the slide parts by number.
		for _, n := range z.names {
			if strings.HasPrefix(n, "ppt/slides/slide") && strings.HasSuffix(n, ".xml") {
				out = append(out, n)
			}
		}
		sort.Slice(out, func(i, j int) bool { return slideNum(out[i]) < slideNum(out[j]) })
	}
	return out, nil
}

func slideNum(name string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path.Base(name), "slide"), ".xml"))
	return n
}

// drawingText collects DrawingML paragraphs (<a:p> of <a:t> runs) of a slide
// or notes part; the text of a title placeholder is returned apart.
func drawingText(b []byte) (title string, paras []string, err error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var para strings.Builder
	inText, inTitle, shapeDepth := false, false, 0
	depth := 0
	var titleParts []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch t.Name.Local {
			case "sp":
				shapeDepth, inTitle = depth, false
			case "ph":
				typ := attr(t, "type")
				inTitle = typ == "title" || typ == "ctrTitle"
			case "p":
				para.Reset()
			case "t":
				inText = true
			case "br":
				para.WriteByte('\n')
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				if s := strings.TrimSpace(para.String()); s != "" {
					if inTitle {
						titleParts = append(titleParts, s)
					} else {
						paras = append(paras, s)
					}
				}
			case "sp":
				if depth == shapeDepth {
					inTitle = false
				}
			}
			depth--
		case xml.CharData:
			if inText {
				para.Write(t)
			}
		}
	}
	return strings.Join(titleParts, " "), paras, nil
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
