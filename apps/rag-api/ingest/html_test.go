package ingest

import (
	"context"
	"reflect"
	"testing"
)

// TestHTMLHeadingsAndTitle pins how headings and the title are read from
// markup as browsers parse it: any h1..h6 end tag closes the open heading, a
// heading opened inside another closes the first, and a <title> met inside a
// heading leaves the heading's text alone. None of them may lose body text.
func TestHTMLHeadingsAndTitle(t *testing.T) {
	cases := []struct {
		name, in string
		title    string
		want     []Section
		reason   string
	}{
		{name: "well formed",
			in:     `<title>VPN Guide</title><h1>VPN</h1><p>Install.</p><h2>Troubleshooting</h2><p>Restart.</p>`,
			title:  "VPN Guide",
			want:   []Section{{Heading: "VPN", Text: "Install."}, {Heading: "VPN > Troubleshooting", Text: "Restart."}},
			reason: "the baseline: title from <title>, sections under their heading path"},
		{name: "mismatched end tag",
			in:     `<h1>Guide</h2><p>Body text.</p><h2>Next</h2><p>More.</p>`,
			title:  "Guide",
			want:   []Section{{Heading: "Guide", Text: "Body text."}, {Heading: "Guide > Next", Text: "More."}},
			reason: "</h2> closes an open <h1> (HTML parsing: any heading end tag pops the open heading); the body after it must not be swallowed into the heading and dropped"},
		{name: "heading opened inside a heading",
			in:     `<h2>Setup<h3>Linux</h3><p>apt install vpn.</p>`,
			want:   []Section{{Heading: "Setup > Linux", Text: "apt install vpn."}},
			reason: "a heading start tag while a heading is open closes the open one first, keeping its text in the path"},
		{name: "title inside a heading",
			in:     `<h1>Report <title>Q3</title>2026</h1><p>Revenue grew.</p>`,
			title:  "Q3",
			want:   []Section{{Heading: "Report 2026", Text: "Revenue grew."}},
			reason: "a <title> in the body is the document title (no other one came first) and is not shown in the heading; the heading's text around it survives"},
		{name: "second title ignored",
			in:     `<title>First</title><title>Second</title><h1>H</h1><p>x</p>`,
			title:  "First",
			want:   []Section{{Heading: "H", Text: "x"}},
			reason: "document.title is the first <title>; the second is not content either"},
		{name: "stray heading end tag",
			in:     `<p>Intro.</p></h3><p>Still intro.</p>`,
			want:   []Section{{Text: "Intro.\n\nStill intro."}},
			reason: "a heading end tag with no heading open is ignored, as browsers do"},
		{name: "unclosed heading",
			in:     `<p>Lead.</p><h2>Trailing words`,
			want:   []Section{{Text: "Lead."}, {Text: "Trailing words"}},
			reason: "a heading cut off by the end of the file still starts a section and keeps its text as body"},
		{name: "unclosed title",
			in:     `<title>Cut off`,
			want:   nil,
			reason: "an unterminated <title> sets no title and is not body text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := parseHTML(context.Background(), []byte(c.in))
			if err != nil {
				t.Fatalf("%s: %v", c.reason, err)
			}
			if p.Title != c.title {
				t.Errorf("%s: title %q, want %q", c.reason, p.Title, c.title)
			}
			if !reflect.DeepEqual(p.Sections, c.want) {
				t.Errorf("%s:\n got %+v\nwant %+v", c.reason, p.Sections, c.want)
			}
		})
	}
}
