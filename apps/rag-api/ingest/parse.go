package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

// ParserVersion changes whenever a parser extracts differently; a stored file
// parsed by another version (or skipped by one) is parsed again.
const ParserVersion = "3"

// parserKey is stored with each file: a new parser version or new limits
// make remembered results stale.
func (in *Ingester) parserKey() string {
	return fmt.Sprintf("%s/%d/%d/%s", ParserVersion, in.maxChunks(), in.maxFileBytes(), in.parseTimeout())
}

type parser func(ctx context.Context, b []byte) (*Parsed, error)

// formatOf names the parser of a path's extension; refusal is the reason for
// formats people keep documents in but that are not read.
func (in *Ingester) formatOf(path string) (p parser, refusal string) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".md", ".markdown":
		return parseMarkdown, ""
	case ".html", ".htm":
		return parseHTML, ""
	case ".pdf":
		return in.pdf().parse, ""
	case ".docx":
		return parseDOCX, ""
	case ".txt", ".text":
		return parseText, ""
	case ".pptx":
		return parsePPTX, ""
	case ".xlsx":
		return parseXLSX, ""
	case ".csv", ".tsv":
		return parseCSV, ""
	case ".hwpx":
		return parseHWPX, ""
	case ".hwp":
		return parseHWP, ""
	case ".doc":
		return nil, "Word 97-2003 (.doc) is not supported: save it as .docx"
	case ".ppt":
		return nil, "PowerPoint 97-2003 (.ppt) is not supported: save it as .pptx"
	case ".xls":
		return nil, "Excel 97-2003 (.xls) is not supported: save it as .xlsx"
	case "":
		return nil, "no file extension: format unknown"
	default:
		return nil, "unsupported format " + ext
	}
}

// supportedExts are the extensions with a parser (for --ext validation).
var supportedExts = []string{".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".pptx", ".xlsx", ".csv", ".tsv", ".hwpx", ".hwp", ".txt", ".text"}

func (in *Ingester) pdf() *PDFEngine {
	if in.PDF == nil {
		in.PDF = NewPDFEngine(DefaultPDFCacheDir(), in.logger())
	}
	return in.PDF
}

// DefaultParseTimeout bounds one file's parse.
const DefaultParseTimeout = 30 * time.Second

// abandonGrace is how long a cancelled parser may take to notice.
const abandonGrace = 2 * time.Second

// parseBounded runs p under a deadline. Every parser checks its context
// (PDFium's WebAssembly instance is killed), so a timed-out parse stops
// instead of keeping a core busy; a library panic becomes an error.
func parseBounded(ctx context.Context, p parser, b []byte, timeout time.Duration) (*Parsed, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		p   *Parsed
		err error
	}
	ch := make(chan result, 1)
	go func() {
		r, err := safeParse(ctx, p, b)
		ch <- result{r, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("parse took longer than %s: stopped", timeout)
		}
		return r.p, r.err
	case <-ctx.Done():
	}
	select {
	case <-ch:
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("parse took longer than %s: stopped", timeout)
		}
		return nil, ctx.Err()
	case <-time.After(abandonGrace):
		return nil, fmt.Errorf("parse took longer than %s and did not stop: abandoned", timeout)
	}
}

func safeParse(ctx context.Context, p parser, b []byte) (res *Parsed, err error) {
	defer func() {
		if r := recover(); r != nil {
			slog.Debug("parser panic", "panic", r, "stack", string(debug.Stack()))
			res, err = nil, fmt.Errorf("parser failed on malformed input: %v", r)
		}
	}()
	return p(ctx, b)
}

// maxBadRatio is the share of unprintable characters above which extracted
// text is garbage: a binary file with a text extension, or a PDF whose
// fonts carry no usable text mapping.
const maxBadRatio = 0.02

// checkText refuses extractions that are not text.
func checkText(p *Parsed) error {
	total, bad := 0, 0
	for _, s := range p.Sections {
		for _, r := range s.Text {
			total++
			if isBadRune(r) {
				bad++
			}
		}
	}
	if total == 0 {
		return errors.New("no text found")
	}
	if float64(bad) > maxBadRatio*float64(total) {
		return fmt.Errorf("extracted text is %.0f%% control, private-use or undecodable characters (%d of %d): binary data or fonts without a text mapping, not indexed",
			100*float64(bad)/float64(total), bad, total)
	}
	return nil
}

func isBadRune(r rune) bool {
	switch {
	case r == '\n' || r == '\t' || r == '\r':
		return false
	case r == utf8.RuneError, unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r):
		return true
	case unicode.IsControl(r):
		return true
	}
	return !unicode.IsPrint(r) && !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r)
}

// DefaultMaxChunks bounds the chunks of one file: a 5000-page manual fits,
// a few hundred kilobytes that inflate to tens of megabytes of text do not.
const DefaultMaxChunks = 10000

// Chunk cuts parsed sections into passages carrying their metadata; it
// stops (and reports false) once more than max chunks would be made.
func Chunk(src, title string, public bool, groups []string, p *Parsed, max int) ([]*doc.Chunk, bool) {
	var out []*doc.Chunk
	for _, s := range p.Sections {
		for _, piece := range splitSection(s.Text, maxChunkRunes) {
			if max > 0 && len(out) == max {
				return out, false
			}
			out = append(out, &doc.Chunk{
				ID:      doc.ID(src, len(out)),
				Source:  src,
				Title:   title,
				Heading: s.Heading,
				Page:    s.Page,
				Text:    piece,
				Public:  public,
				Groups:  groups,
			})
		}
	}
	return out, true
}

// Parse parses b as the format of name (for fuzzing and tools).
func (in *Ingester) Parse(ctx context.Context, name string, b []byte) (*Parsed, error) {
	p, refusal := in.formatOf(name)
	if p == nil {
		return nil, errors.New(refusal)
	}
	return safeParse(ctx, p, b)
}
