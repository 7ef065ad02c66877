package ingest

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/ledongthuc/pdf"
)

// maxPDFPages stops a hostile page tree from keeping the ingest busy forever.
const maxPDFPages = 5000

// parsePDF extracts plain text page by page so chunks keep their page number.
// The PDF library panics on some malformed files; safeParse turns that into a
// skip reason.
func parsePDF(b []byte) (*Parsed, error) {
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	n := r.NumPage()
	if n > maxPDFPages {
		return nil, fmt.Errorf("pdf has %d pages, limit is %d", n, maxPDFPages)
	}
	p := &Parsed{}
	if info := r.Trailer().Key("Info"); info.Kind() == pdf.Dict {
		p.Title = strings.TrimSpace(info.Key("Title").Text())
	}
	fonts := map[string]*pdf.Font{}
	for i := 1; i <= n; i++ {
		page := r.Page(i)
		if page.V.IsNull() {
			continue
		}
		txt, err := page.GetPlainText(fonts)
		if err != nil {
			return nil, fmt.Errorf("pdf page %d: %w", i, err)
		}
		txt = strings.TrimSpace(txt)
		if txt == "" {
			continue
		}
		p.Sections = append(p.Sections, Section{Page: i, Text: txt})
	}
	if len(p.Sections) == 0 && n > 0 {
		return nil, fmt.Errorf("pdf has %d pages but no extractable text (scanned image?)", n)
	}
	return p, nil
}
