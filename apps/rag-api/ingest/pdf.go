package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/klippa-app/go-pdfium"
	pdferrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// maxPDFPages stops a hostile page tree from keeping the ingest busy forever.
const maxPDFPages = 5000

// pdfMemoryPages bounds PDFium's WebAssembly memory (64 KiB pages: 1 GiB).
const pdfMemoryPages = 16384

// PDFEngine extracts PDF text with PDFium, Chromium's PDF engine, compiled
// to WebAssembly and run by wazero: it reads what real producers write
// (LibreOffice's subset fonts, Chromium's Type 3 fonts, CID fonts with
// Identity-H encodings) with no C library and no external program, so the
// static image and the Lambda can ingest PDFs too. The module is compiled
// once per process (about 7-20 s on a busy 2-core machine) and the compiled
// code is cached in CacheDir, after which start-up takes ~0.1 s.
type PDFEngine struct {
	CacheDir string
	Log      *slog.Logger

	lock chan struct{} // one parse at a time; waiting honours the context
	pool pdfium.Pool
	inst pdfium.Pdfium
	err  error
}

// NewPDFEngine returns an engine caching compiled code in cacheDir ("" for none).
func NewPDFEngine(cacheDir string, log *slog.Logger) *PDFEngine {
	return &PDFEngine{CacheDir: cacheDir, Log: log, lock: make(chan struct{}, 1)}
}

func (e *PDFEngine) acquire(ctx context.Context) error {
	select {
	case e.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *PDFEngine) release() { <-e.lock }

// DefaultPDFCacheDir is where compiled PDFium code is cached by default.
func DefaultPDFCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "unsilo", "rag-api", "pdfium")
	}
	return filepath.Join(os.TempDir(), "rag-api-pdfium")
}

func (e *PDFEngine) instance() (pdfium.Pdfium, error) {
	if e.inst != nil {
		return e.inst, nil
	}
	if e.pool == nil && e.err == nil {
		start := time.Now()
		rc := wazero.NewRuntimeConfig().
			WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
			// A stuck parse is interrupted when its context ends (Kill).
			WithCloseOnContextDone(true).
			WithMemoryLimitPages(pdfMemoryPages)
		if e.CacheDir != "" {
			if err := os.MkdirAll(e.CacheDir, 0o700); err == nil {
				if cache, err := wazero.NewCompilationCacheWithDir(e.CacheDir); err == nil {
					rc = rc.WithCompilationCache(cache)
				}
			}
		}
		// No filesystem for the module: PDF bytes go in through memory.
		e.pool, e.err = webassembly.Init(webassembly.Config{MinIdle: 1, MaxIdle: 1, MaxTotal: 1,
			RuntimeConfig: rc, FSConfig: wazero.NewFSConfig(), Stdout: io.Discard, Stderr: io.Discard})
		if e.err != nil {
			e.err = fmt.Errorf("pdf engine: %w", e.err)
		}
		e.logger().Info("pdf engine ready", "took", time.Since(start).Round(time.Millisecond), "cache", e.CacheDir)
	}
	if e.err != nil {
		return nil, e.err
	}
	inst, err := e.pool.GetInstance(30 * time.Second)
	if err != nil {
		return nil, fmt.Errorf("pdf engine: %w", err)
	}
	e.inst = inst
	return inst, nil
}

func (e *PDFEngine) logger() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

// Close releases the engine.
func (e *PDFEngine) Close() {
	if e.acquire(context.Background()) != nil {
		return
	}
	defer e.release()
	if e.inst != nil {
		_ = e.inst.Close()
		e.inst = nil
	}
	if e.pool != nil {
		_ = e.pool.Close()
		e.pool = nil
	}
}

// parse extracts text page by page so chunks keep their page number. When
// ctx ends mid-parse the WebAssembly instance is killed: the parse stops
// for real instead of lingering, and the next file gets a fresh instance.
func (e *PDFEngine) parse(ctx context.Context, b []byte) (*Parsed, error) {
	if err := e.acquire(ctx); err != nil {
		return nil, err
	}
	defer e.release()
	inst, err := e.instance()
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	killed := make(chan bool, 1)
	go func() {
		select {
		case <-ctx.Done():
			_ = inst.Kill()
			killed <- true
		case <-done:
			killed <- false
		}
	}()
	p, err := extractPDF(inst, b)
	close(done)
	if <-killed {
		// Killed mid-parse (or just after): the instance is gone either way.
		e.inst = nil
		return nil, ctx.Err()
	}
	if errors.Is(err, errPDFRelease) {
		// The instance still holds the document's memory: a fresh one
		// serves the next file instead of one that grows with each leak.
		_ = inst.Close()
		e.inst = nil
	}
	return p, err
}

// errPDFRelease marks a document or page PDFium could not free: the file
// is refused with the reason (its text may be whole, but nothing proves
// it) and the engine retires the instance.
var errPDFRelease = errors.New("pdf engine could not release")

func extractPDF(inst pdfium.Pdfium, b []byte) (_ *Parsed, err error) {
	doc, err := inst.OpenDocument(&requests.OpenDocument{File: &b})
	if err != nil {
		if errors.Is(err, pdferrors.ErrPassword) {
			return nil, fmt.Errorf("pdf is password-protected")
		}
		return nil, fmt.Errorf("pdf: %w", err)
	}
	defer func() {
		if _, cerr := inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document}); cerr != nil {
			err = errors.Join(err, fmt.Errorf("%w the document: %w", errPDFRelease, cerr))
		}
	}()
	pc, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc.Document})
	if err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	n := pc.PageCount
	if n > maxPDFPages {
		return nil, fmt.Errorf("pdf has %d pages, limit is %d", n, maxPDFPages)
	}
	p := &Parsed{}
	if t, err := inst.FPDF_GetMetaText(&requests.FPDF_GetMetaText{Document: doc.Document, Tag: "Title"}); err == nil {
		p.Title = strings.TrimSpace(t.Value)
	}
	for i := 0; i < n; i++ {
		raw, err := pageText(inst, doc.Document, i)
		if err != nil {
			return nil, fmt.Errorf("pdf page %d: %w", i+1, err)
		}
		txt := strings.TrimSpace(strings.ReplaceAll(raw, "\r\n", "\n"))
		if txt == "" {
			continue
		}
		p.Sections = append(p.Sections, Section{Page: i + 1, Text: pdfParagraphs(txt)})
	}
	if len(p.Sections) == 0 && n > 0 {
		return nil, fmt.Errorf("pdf has %d pages but no extractable text (scanned image? run OCR first)", n)
	}
	return p, nil
}

// pageText reads a page's text in one call into the WebAssembly module
// (go-pdfium's GetPageText makes one call per character, ~25 ms a page).
// Characters PDFium cannot map to Unicode come back as NUL and are dropped.
func pageText(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, i int) (_ string, err error) {
	tp, err := inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: i}}})
	if err != nil {
		return "", err
	}
	defer func() {
		if _, cerr := inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage}); cerr != nil {
			err = errors.Join(err, fmt.Errorf("%w the text page: %w", errPDFRelease, cerr))
		}
	}()
	cc, err := inst.FPDFText_CountChars(&requests.FPDFText_CountChars{TextPage: tp.TextPage})
	if err != nil || cc.Count <= 0 {
		return "", err
	}
	t, err := inst.FPDFText_GetText(&requests.FPDFText_GetText{TextPage: tp.TextPage, StartIndex: 0, Count: cc.Count})
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(t.Text, "\x00", ""), nil
}

// pdfParagraphs joins the lines PDFium reports back into paragraphs: a line
// ending a sentence ends a paragraph, a short line (heading, list item) stays
// on its own line, other breaks are the layout's wrapping. A wrap between
// two Hangul syllables with no space before it is inside a word ("합\n니다"),
// so it joins without a space.
func pdfParagraphs(txt string) string {
	lines := strings.Split(txt, "\n")
	var b strings.Builder
	for i, raw := range lines {
		l := strings.TrimSpace(raw)
		if l == "" {
			b.WriteString("\n\n")
			continue
		}
		b.WriteString(l)
		if i == len(lines)-1 {
			break
		}
		next := strings.TrimSpace(lines[i+1])
		lastRune, _ := utf8.DecodeLastRuneInString(l)
		firstNext, _ := utf8.DecodeRuneInString(next)
		switch {
		case strings.ContainsRune(".?!:。", lastRune):
			b.WriteString("\n\n")
		case utf8.RuneCountInString(l) < 40:
			b.WriteString("\n")
		case !strings.HasSuffix(raw, " ") && isCJK(lastRune) && isCJK(firstNext):
		default:
			b.WriteString(" ")
		}
	}
	return b.String()
}

func isCJK(r rune) bool {
	return unicode.Is(unicode.Hangul, r) || unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}
