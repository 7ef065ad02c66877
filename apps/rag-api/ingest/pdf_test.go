package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "producers", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPDFsFromRealProducers reads PDFs written by Chromium (Type 3 and CID
// fonts), LibreOffice and Ghostscript: every phrase must come out as text,
// on its page.
func TestPDFsFromRealProducers(t *testing.T) {
	page1 := []string{"출장 경비 규정", "일일 식비 한도는 삼만 오천 원입니다", "The daily meal allowance for overseas travel is 80 US dollars"}
	page2 := []string{"프리미엄 이코노미를 허용합니다", "taxis after 22:00 are reimbursed"}
	cases := []struct {
		file   string
		pages  [][]string
		reason string
	}{
		{"chromium-type3.pdf", [][]string{page1, page2}, "Chromium embeds CFF fonts as Type 3"},
		{"chromium-cid.pdf", [][]string{page1, page2}, "CID TrueType with Identity-H"},
		{"libreoffice.pdf", [][]string{page1, page2}, "LibreOffice's subset fonts with custom encodings"},
		{"ghostscript-distilled.pdf", [][]string{page1, page2}, "Ghostscript re-encoded subsets"},
		{"ghostscript.pdf", [][]string{{"snapshots are kept for 35 days"}, {"recovery point objective is one hour"}}, "standard fonts, not embedded"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			p, err := sharedPDF.parse(context.Background(), readFixture(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := checkText(p); err != nil {
				t.Fatalf("%s: %v", c.reason, err)
			}
			byPage := map[int]string{}
			for _, s := range p.Sections {
				byPage[s.Page] += s.Text
			}
			for i, want := range c.pages {
				got := strings.Join(strings.Fields(byPage[i+1]), " ")
				for _, w := range want {
					if !strings.Contains(got, w) {
						t.Errorf("%s: page %d lacks %q; got %q", c.reason, i+1, w, got)
					}
				}
			}
		})
	}
}

// TestPDFGarbageIsRefused: text drawn with codes that map to control
// characters comes out of the extractor as such, and is refused with a reason.
func TestPDFGarbageIsRefused(t *testing.T) {
	garbage := strings.Repeat("\x01\x02\x03\x04\x05\x06\x07\x0e\x0f\x10 ", 20)
	p, err := sharedPDF.parse(context.Background(), makePDF(t, "G", []string{garbage}))
	if err == nil {
		err = checkText(p)
	}
	if err == nil || (!strings.Contains(err.Error(), "control") && !strings.Contains(err.Error(), "no extractable text")) {
		t.Fatalf("garbage accepted: %v", err)
	}
}

func TestPasswordPDFIsRefused(t *testing.T) {
	_, err := sharedPDF.parse(context.Background(), readFixture(t, "ghostscript-password.pdf"))
	if err == nil || !strings.Contains(err.Error(), "password-protected") {
		t.Fatalf("encrypted PDF: %v", err)
	}
}

// TestPDFParseIsCancelled: a cancelled parse stops (PDFium's instance is
// killed) and the engine keeps working for the next file.
func TestPDFParseIsCancelled(t *testing.T) {
	pages := make([]string, 3000)
	for i := range pages {
		pages[i] = strings.Repeat("Backups are kept for thirty five days. ", 12)
	}
	big := makePDF(t, "Big", pages)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := sharedPDF.parse(ctx, big)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled parse: %v after %s", err, time.Since(start))
	}
	p, err := sharedPDF.parse(context.Background(), readFixture(t, "ghostscript.pdf"))
	if err != nil || len(p.Sections) != 2 {
		t.Fatalf("engine after a kill: %+v %v", p, err)
	}
}

func TestWordFromRealProducers(t *testing.T) {
	cases := []struct {
		file, title string
		headings    []string
		reason      string
	}{
		{"python-docx.docx", "보안 점검 절차", []string{"보안 점검 절차", "보안 점검 절차 > 점검 대상", "Security review"}, "English style ids"},
		{"korean-word-styles.docx", "보안 점검 절차", []string{"보안 점검 절차", "보안 점검 절차 > 점검 대상", "Security review"}, "numeric style ids, as Korean Word writes them"},
		{"pandoc.docx", "재택근무 규정", []string{"재택근무 규정", "재택근무 규정 > 장비 지원", "Remote work"}, "pandoc"},
	}
	for _, c := range cases {
		p, err := parseDOCX(context.Background(), readFixture(t, c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		var hs []string
		for _, s := range p.Sections {
			hs = append(hs, s.Heading)
		}
		if p.Title != c.title || strings.Join(hs, "|") != strings.Join(c.headings, "|") {
			t.Errorf("%s (%s): title %q, headings %q; want %q, %q", c.file, c.reason, p.Title, hs, c.title, c.headings)
		}
	}
}
