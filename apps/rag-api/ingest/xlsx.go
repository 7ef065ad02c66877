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

// maxSheetRows bounds the rows read per sheet.
const maxSheetRows = 200000

// parseXLSX reads every worksheet as a section headed by its name. A row
// becomes one line "header: value; header: value" using the sheet's first
// row as headers, so a passage says what each number is.
func parseXLSX(ctx context.Context, b []byte) (*Parsed, error) {
	z, err := openZip(b, "xlsx")
	if err != nil {
		return nil, err
	}
	wb, err := z.need("xl/workbook.xml")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Sheets []struct {
			Name  string `xml:"name,attr"`
			RID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
			State string `xml:"state,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := xml.Unmarshal(wb, &doc); err != nil {
		return nil, fmt.Errorf("xlsx: workbook.xml: %w", err)
	}
	shared, err := sharedStrings(z)
	if err != nil {
		return nil, err
	}
	rels := z.rels("xl/workbook.xml")
	p := &Parsed{}
	if core, err := z.read("docProps/core.xml"); err == nil && core != nil {
		p.Title = coreTitle(core)
	}
	for _, s := range doc.Sheets {
		if s.State == "hidden" || s.State == "veryHidden" {
			continue
		}
		r, ok := rels[s.RID]
		if !ok {
			continue
		}
		x, err := z.read(r[1])
		if err != nil {
			return nil, err
		}
		if x == nil {
			continue
		}
		rows, err := sheetRows(ctx, x, shared)
		if err != nil {
			return nil, fmt.Errorf("xlsx: sheet %q: %w", s.Name, err)
		}
		if text := tableText(rows); text != "" {
			p.Sections = append(p.Sections, Section{Heading: s.Name, Text: text})
		}
	}
	return p, nil
}

func sharedStrings(z *zipDoc) ([]string, error) {
	b, err := z.read("xl/sharedStrings.xml")
	if err != nil || b == nil {
		return nil, err
	}
	var out []string
	d := xml.NewDecoder(bytes.NewReader(b))
	var cur strings.Builder
	inT, inPh := false, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("xlsx: sharedStrings.xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				cur.Reset()
			case "t":
				inT = true
			case "rPh": // phonetic guide: not the cell's text
				inPh = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				out = append(out, cur.String())
			case "t":
				inT = false
			case "rPh":
				inPh = false
			}
		case xml.CharData:
			if inT && !inPh {
				cur.Write(t)
			}
		}
	}
}

// sheetRows returns the cell texts of a worksheet, row by row, in column order.
func sheetRows(ctx context.Context, b []byte, shared []string) ([][]string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var rows [][]string
	var row []string
	var typ, ref string
	var val strings.Builder
	inV := false
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		tok, err := d.Token()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				row = nil
			case "c":
				typ, ref = attr(t, "t"), attr(t, "r")
				val.Reset()
			case "v", "t":
				inV = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v", "t":
				inV = false
			case "c":
				v := val.String()
				switch typ {
				case "s":
					i, err := strconv.Atoi(strings.TrimSpace(v))
					if err != nil || i < 0 || i >= len(shared) {
						return nil, fmt.Errorf("cell %s names shared string %q of %d", ref, v, len(shared))
					}
					v = shared[i]
				case "b":
					// Booleans are 1 or 0; any other value is kept as written.
					switch v {
					case "1":
						v = "TRUE"
					case "0":
						v = "FALSE"
					}
				}
				col := colIndex(ref)
				if col < 0 {
					col = len(row)
				}
				if col > 16384 {
					return nil, fmt.Errorf("cell %s is beyond the last column", ref)
				}
				for len(row) < col {
					row = append(row, "")
				}
				row = append(row, strings.TrimSpace(v))
			case "row":
				rows = append(rows, row)
				if len(rows) > maxSheetRows {
					return nil, fmt.Errorf("more than %d rows", maxSheetRows)
				}
			}
		case xml.CharData:
			if inV {
				val.Write(t)
			}
		}
	}
}

// colIndex turns "C12" into 2.
func colIndex(ref string) int {
	n := 0
	i := 0
	for ; i < len(ref) && ref[i] >= 'A' && ref[i] <= 'Z'; i++ {
		n = n*26 + int(ref[i]-'A'+1)
		if n > 1<<20 {
			return -1
		}
	}
	if i == 0 {
		return -1
	}
	return n - 1
}

// tableText lays rows out as "header: value; ..." lines, one paragraph per
// row, so chunks never split a row.
func tableText(rows [][]string) string {
	var header []string
	var b strings.Builder
	for _, r := range rows {
		empty := true
		for _, c := range r {
			empty = empty && c == ""
		}
		if empty {
			continue
		}
		if header == nil {
			header = r
			b.WriteString(strings.Join(nonEmpty(r), " | "))
			b.WriteString("\n\n")
			continue
		}
		var parts []string
		for i, c := range r {
			if c == "" {
				continue
			}
			if i < len(header) && header[i] != "" {
				parts = append(parts, header[i]+": "+c)
			} else {
				parts = append(parts, c)
			}
		}
		b.WriteString(strings.Join(parts, "; "))
		b.WriteString("\n\n")
	}
	return strings.TrimSpace(b.String())
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
