package ingest

import (
	"context"
	"strings"
	"testing"
)

// TestOfficeAndHancomFormats reads files written by LibreOffice, openpyxl,
// Excel-style CSV exports and Hancom Office (see testdata/producers/SOURCES.md):
// each phrase must come out, under the expected heading or page.
func TestOfficeAndHancomFormats(t *testing.T) {
	cases := []struct {
		file   string
		parse  parser
		title  string
		want   map[string]string // phrase -> heading ("" for any); for slides the heading is the slide title
		page   map[string]int    // phrase -> page (slide number)
		reason string
	}{
		{file: "libreoffice-impress.pptx", parse: parsePPTX, title: "2026 보안 교육 계획",
			want:   map[string]string{"보안 교육을 이수해야 합니다": "2026년 보안 교육 계획", "reporting a drill email earns a badge": "Phishing drills", "계정이 잠깁니다": "교육 미이수 시"},
			page:   map[string]int{"Phishing drills run every quarter": 2, "계정이 잠깁니다": 3},
			reason: "LibreOffice Impress: slides in presentation order, the first line as the slide title"},
		{file: "openpyxl.xlsx", parse: parseXLSX, title: "출장비 기준표",
			want:   map[string]string{"지역: 해외; 일일 식비: 80 USD; 숙박 한도: 200 USD; 비고: 재무팀 사전 승인": "출장비", "Team: Security; Owner: Lee Minho": "Contacts"},
			reason: "openpyxl: inline strings, numbers, two sheets; rows as header: value"},
		{file: "libreoffice-calc.xlsx", parse: parseXLSX,
			want:   map[string]string{"부서: 보안팀; 담당자: 이서준, 박민지; 내선번호: 5678": ""},
			reason: "LibreOffice Calc: shared strings with rich-text runs"},
		{file: "excel-utf8.csv", parse: parseCSV,
			want:   map[string]string{"부서: 인사팀; 담당자: 김하늘; 내선번호: 1234": "", "담당자: 이서준, 박민지": ""},
			reason: "Excel's CSV UTF-8: byte-order mark, quoted comma"},
		{file: "excel-cp949.csv", parse: parseCSV,
			want:   map[string]string{"부서: 재무팀; 담당자: 정도윤; 내선번호: 3456": ""},
			reason: "Korean Excel's default CSV encoding, CP949"},
		{file: "hancom-multipara.hwpx", parse: parseHWPX,
			want:   map[string]string{"김하성은 2일(이하 한국시간) 미국 캘리포니아주 샌디에이고 펫코파크에서": ""},
			reason: "Hancom Office HWPX: OWPML sections from the spine"},
		{file: "hancom-table.hwpx", parse: parseHWPX,
			want:   map[string]string{"C반 기말고사": "", "개똥이": ""},
			reason: "HWPX table cells"},
		{file: "hancom-table.hwp", parse: parseHWP,
			want:   map[string]string{"ABC": "", "UVM": ""},
			reason: "HWP 5.0 binary: deflated BodyText records, table cells"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			p, err := c.parse(context.Background(), readFixture(t, c.file))
			if err != nil {
				t.Fatalf("%s: %v", c.reason, err)
			}
			if err := checkText(p); err != nil {
				t.Fatalf("%s: %v", c.reason, err)
			}
			if c.title != "" && p.Title != c.title {
				t.Errorf("%s: title %q, want %q", c.reason, p.Title, c.title)
			}
			for phrase, heading := range c.want {
				found := false
				for _, s := range p.Sections {
					if strings.Contains(strings.Join(strings.Fields(s.Text), " "), phrase) && (heading == "" || s.Heading == heading) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: %q not found under %q in %+v", c.reason, phrase, heading, p.Sections)
				}
			}
			for phrase, page := range c.page {
				for _, s := range p.Sections {
					if strings.Contains(s.Text, phrase) && s.Page != page {
						t.Errorf("%s: %q on page %d, want %d", c.reason, phrase, s.Page, page)
					}
				}
			}
		})
	}
}

func TestEncryptedHancomIsRefused(t *testing.T) {
	_, err := parseHWP(context.Background(), readFixture(t, "hancom-distribution.hwp"))
	if err == nil || !strings.Contains(err.Error(), "distribution document") {
		t.Fatalf("distribution HWP: %v", err)
	}
	if _, err := parseHWP(context.Background(), makeDOCX(t, []string{"|x"})); err == nil || !strings.Contains(err.Error(), "not an HWP 5") {
		t.Fatalf("a zip named .hwp: %v", err)
	}
}
