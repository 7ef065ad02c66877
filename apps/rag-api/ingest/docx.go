package ingest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxDocxXML bounds the decompressed size of word/document.xml: a zip bomb
// expands to gigabytes from a few kilobytes, a real document rarely exceeds
// a few megabytes.
const maxDocxXML = 64 << 20

var errTooLarge = errors.New("decompressed size exceeds limit")

// parseDOCX reads the main document part of an Office Open XML file with
// archive/zip and encoding/xml: paragraphs styled HeadingN start sections.
func parseDOCX(b []byte) (*Parsed, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("docx: not a zip archive: %w", err)
	}
	var docPart, corePart *zip.File
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			docPart = f
		case "docProps/core.xml":
			corePart = f
		}
	}
	if docPart == nil {
		return nil, fmt.Errorf("docx: no word/document.xml part")
	}
	body, err := readBounded(docPart, maxDocxXML)
	if err != nil {
		return nil, fmt.Errorf("docx: word/document.xml: %w", err)
	}
	p := &Parsed{}
	if corePart != nil {
		if core, err := readBounded(corePart, 1<<20); err == nil {
			p.Title = coreTitle(core)
		}
	}
	if err := docxSections(body, p); err != nil {
		return nil, fmt.Errorf("docx: %w", err)
	}
	return p, nil
}

func readBounded(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%w (%d > %d bytes)", errTooLarge, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// The header can lie: count what actually comes out.
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w (> %d bytes)", errTooLarge, limit)
	}
	return b, nil
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

func docxSections(b []byte, p *Parsed) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	var para strings.Builder
	var cur strings.Builder
	heading := ""
	style := ""
	inText := false
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			p.Sections = append(p.Sections, Section{Heading: heading, Text: s})
		}
		cur.Reset()
	}
	for {
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
				style = ""
			case "pStyle":
				for _, a := range t.Attr {
					if a.Name.Local == "val" {
						style = a.Value
					}
				}
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
				ls := strings.ToLower(style)
				if strings.HasPrefix(ls, "heading") || ls == "title" {
					flush()
					heading = text
					if p.Title == "" && (ls == "title" || ls == "heading1") {
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
