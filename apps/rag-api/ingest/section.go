// Package ingest turns folders and S3 prefixes of documents (PDF, Word,
// PowerPoint, Excel, CSV, HWP/HWPX, Markdown, HTML, text) into chunks,
// incrementally, with access rules that fail closed, and without letting one
// bad file stop the run: every file not indexed is reported with the reason.
package ingest

import (
	"strings"
	"unicode/utf8"
)

// Section is a structural unit a loader found: a page of a PDF, or the text
// under one heading. Chunks never cross sections, so a citation's page and
// heading are always right.
type Section struct {
	Heading string
	Page    int
	Text    string
}

// Parsed is what a loader returns for one file.
type Parsed struct {
	Title    string
	Sections []Section
	// DocACL is set when the document declares who may read it (front
	// matter, meta tags); Groups are then the groups it names.
	DocACL bool
	Groups []string
	// ACLErr is set when the document's access metadata is malformed: the
	// file is refused with this reason.
	ACLErr error
}

// maxChunkRunes bounds a passage: long enough to answer from, short enough
// that BM25 length normalisation and the answer prompt stay useful.
const maxChunkRunes = 1200

// splitSection cuts text into pieces of at most max runes, preferring
// paragraph, then sentence, then word boundaries.
func splitSection(text string, max int) []string {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	var out []string
	var cur strings.Builder
	curLen := 0
	emit := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
		curLen = 0
	}
	for _, para := range strings.Split(text, "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		pl := utf8.RuneCountInString(para)
		if curLen > 0 && curLen+pl+2 > max {
			emit()
		}
		if pl <= max {
			if curLen > 0 {
				cur.WriteString("\n\n")
				curLen += 2
			}
			cur.WriteString(para)
			curLen += pl
			continue
		}
		out = append(out, splitLong(para, max)...)
	}
	emit()
	return out
}

// splitLong cuts one over-long paragraph at sentence ends (., ?, !, 。, 다.)
// or, failing that, at spaces, or hard at max runes.
func splitLong(para string, max int) []string {
	var out []string
	rs := []rune(para)
	for len(rs) > max {
		cut := -1
		for i := max - 1; i > max/2; i-- {
			if r := rs[i]; r == '.' || r == '?' || r == '!' || r == '。' || r == '\n' {
				cut = i + 1
				break
			}
		}
		if cut < 0 {
			for i := max - 1; i > max/2; i-- {
				if rs[i] == ' ' {
					cut = i + 1
					break
				}
			}
		}
		if cut < 0 {
			cut = max
		}
		out = append(out, strings.TrimSpace(string(rs[:cut])))
		rs = rs[cut:]
	}
	if s := strings.TrimSpace(string(rs)); s != "" {
		out = append(out, s)
	}
	return out
}
