package ingest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/index"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sharedPDF is one PDF engine for the package's tests: PDFium is compiled
// once per process (the compiled code is cached on disk across runs).
var sharedPDF = NewPDFEngine(DefaultPDFCacheDir(), quiet)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newIndex(t testing.TB) *index.Index {
	t.Helper()
	an, _ := search.NewAnalyzer(search.DefaultAnalyzer)
	ix, err := index.Open(filepath.Join(t.TempDir(), "ix.db"), an, index.Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func newIngester(t testing.TB) (*Ingester, *index.Index) {
	ix := newIndex(t)
	return &Ingester{Index: ix, PDF: sharedPDF, Log: quiet}, ix
}

// allChunks returns the stored chunks by file base name.
func allChunks(t testing.TB, ix *index.Index) map[string][]*doc.Chunk {
	t.Helper()
	srcs, err := ix.Sources("")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]*doc.Chunk{}
	for _, s := range srcs {
		cs, err := ix.FileChunks(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) > 0 {
			out[filepath.Base(s)] = cs
		}
	}
	return out
}

func reasons(rep Report) map[string]string {
	out := map[string]string{}
	for _, s := range rep.Skipped {
		out[filepath.Base(s.Source)] = s.Reason
	}
	return out
}

func TestIngestFormatsAndHostileFiles(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "guide.md"), []byte("---\ntitle: 휴가 규정\ngroups: [hr]\n---\n# 휴가\n\n연차는 매년 15일입니다.\n\n## 신청\n\n휴가 신청은 포털에서 합니다.\n"))
	write(t, filepath.Join(root, "page.html"), []byte(`<html><head><title>VPN Guide</title><script>evil()</script></head><body><nav>menu</nav><h1>VPN</h1><p>Install the client.</p><h2>Troubleshooting</h2><p>Restart it.</p></body></html>`))
	write(t, filepath.Join(root, "manual.pdf"), makePDF(t, "Manual", []string{"First page about backups.", "Second page about restores."}))
	write(t, filepath.Join(root, "policy.docx"), makeDOCX(t, []string{"Heading1|Security Policy", "|Passwords rotate every 90 days.", "Heading2|MFA", "|MFA is mandatory."}))
	write(t, filepath.Join(root, "policy.docx.acl"), []byte("# who may read\nsecurity, admins\n"))
	write(t, filepath.Join(root, "secret", ".acl"), []byte("finance\n"))
	write(t, filepath.Join(root, "secret", "budget.txt"), []byte("The budget is 10 units."))
	write(t, filepath.Join(root, "bad.pdf"), []byte("%PDF-1.4 this is not a pdf"))
	write(t, filepath.Join(root, "bomb.docx"), zipBombDOCX(t))
	write(t, filepath.Join(root, "binary.txt"), []byte{0xff, 0xfe, 0, 1, 2})
	write(t, filepath.Join(root, "controls.md"), []byte(strings.Repeat("\x01\x02\x03\x04 abc\x05\x06\x07\x08\n", 200)))
	write(t, filepath.Join(root, "huge.txt"), []byte(strings.Repeat("a", 300<<10)))
	write(t, filepath.Join(root, "old.doc"), []byte{0xd0, 0xcf, 0x11, 0xe0})
	write(t, filepath.Join(root, "photo.png"), []byte{0x89, 'P', 'N', 'G'})
	write(t, filepath.Join(root, ".hidden.md"), []byte("# hidden"))

	in, ix := newIngester(t)
	in.MaxFileBytes = 200 << 10
	rep, err := in.Path(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	why := reasons(rep)
	for name, want := range map[string]string{
		"bad.pdf": "pdf", "bomb.docx": "exceeds limit", "binary.txt": "UTF-8", "huge.txt": "limit is 204800",
		"controls.md": "control", "old.doc": "save it as .docx", "photo.png": "unsupported format .png",
	} {
		if !strings.Contains(why[name], want) {
			t.Errorf("%s: reason %q, want it to mention %q", name, why[name], want)
		}
	}
	if rep.Added != 5 || len(rep.Skipped) != 7 {
		t.Fatalf("added %d, skipped %+v", rep.Added, rep.Skipped)
	}
	got := allChunks(t, ix)
	md := got["guide.md"]
	if len(md) != 2 || md[0].Title != "휴가 규정" || md[1].Heading != "휴가 > 신청" || strings.Join(md[0].Groups, ",") != "hr" || md[0].Public {
		t.Errorf("markdown chunks: %+v %+v", md[0], md[len(md)-1])
	}
	pdf := got["manual.pdf"]
	if len(pdf) != 2 || pdf[1].Page != 2 || !strings.Contains(pdf[1].Text, "restores") || pdf[0].Title != "Manual" || !pdf[0].Public {
		t.Errorf("pdf chunks: %+v", pdf)
	}
	dx := got["policy.docx"]
	if len(dx) != 2 || dx[1].Heading != "Security Policy > MFA" || dx[0].Title != "Security Policy" || strings.Join(dx[0].Groups, ",") != "admins,security" {
		t.Errorf("docx chunks: %+v", dx)
	}
	h := got["page.html"]
	if len(h) != 2 || h[0].Title != "VPN Guide" || strings.Contains(h[0].Text, "evil") || strings.Contains(h[0].Text, "menu") {
		t.Errorf("html chunks: %+v", h)
	}
	if b := got["budget.txt"]; len(b) != 1 || strings.Join(b[0].Groups, ",") != "finance" {
		t.Errorf("dir acl: %+v", b)
	}

	// Second run: nothing changed, refusals are remembered, not re-parsed.
	rep, err = in.Path(context.Background(), root)
	if err != nil || rep.Unchanged != 10 || rep.Added+rep.Updated != 0 {
		t.Fatalf("re-run: %+v %v", rep, err)
	}
	remembered := 0
	for _, s := range rep.Skipped {
		if s.Remembered {
			remembered++
		}
	}
	if remembered != 5 || len(rep.Skipped) != 7 {
		t.Errorf("re-run skips: %+v (want the 5 parsed refusals remembered, the 2 unsupported listed)", rep.Skipped)
	}
	// Edit one, delete one, change an ACL, touch one without changing it.
	write(t, filepath.Join(root, "page.html"), []byte(`<h1>VPN</h1><p>New text.</p>`))
	os.Remove(filepath.Join(root, "secret", "budget.txt"))
	write(t, filepath.Join(root, "policy.docx.acl"), []byte("security\n"))
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(root, "guide.md"), future, future); err != nil {
		t.Fatal(err)
	}
	rep, err = in.Path(context.Background(), root)
	if err != nil || rep.Updated != 2 || rep.Removed != 1 || rep.Unchanged != 7 {
		t.Fatalf("incremental: %+v %v", rep, err)
	}
	got = allChunks(t, ix)
	if _, ok := got["budget.txt"]; ok {
		t.Error("deleted file still indexed")
	}
	if g := got["policy.docx"][0].Groups; strings.Join(g, ",") != "security" {
		t.Errorf("acl change not picked up: %v", g)
	}
	hits, _ := ix.Search(context.Background(), search.Query{Text: "mandatory MFA", Groups: []string{"admins"}})
	if len(hits) != 0 {
		t.Errorf("admins still find the policy after the ACL was narrowed: %+v", hits)
	}
}

func TestMissingAndEmptyFolderRemoveNothing(t *testing.T) {
	root := t.TempDir()
	docs := filepath.Join(root, "docs")
	write(t, filepath.Join(docs, "a.md"), []byte("# A\n\nalpha"))
	write(t, filepath.Join(docs, "b.md"), []byte("# B\n\nbeta"))
	in, ix := newIngester(t)
	if _, err := in.Path(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	// The volume is not mounted yet: the folder is missing.
	if err := os.RemoveAll(docs); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Path(context.Background(), docs); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing folder: %v", err)
	}
	// Mounted but empty.
	if err := os.MkdirAll(docs, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Path(context.Background(), docs); err == nil || !strings.Contains(err.Error(), "--allow-empty") {
		t.Fatalf("empty folder: %v", err)
	}
	if n := len(allChunks(t, ix)); n != 2 {
		t.Fatalf("index lost files: %d left", n)
	}
	in.AllowEmpty = true
	rep, err := in.Path(context.Background(), docs)
	if err != nil || rep.Removed != 2 || ix.Len() != 0 {
		t.Fatalf("allow-empty: %+v %v, %d chunks left", rep, err, ix.Len())
	}
}

func TestChunkBoundAndSingleFile(t *testing.T) {
	root := t.TempDir()
	var b strings.Builder
	for i := 0; i < 50; i++ {
		b.WriteString("## Section\n\n" + strings.Repeat("word ", 10) + "\n\n")
	}
	write(t, filepath.Join(root, "many.md"), []byte(b.String()))
	in, ix := newIngester(t)
	in.MaxChunks = 20
	rep, err := in.Path(context.Background(), filepath.Join(root, "many.md"))
	if err != nil || rep.Files != 1 || !strings.Contains(reasons(rep)["many.md"], "more than 20 chunks") {
		t.Fatalf("%+v %v", rep, err)
	}
	in.MaxChunks = 0
	rep, err = in.Path(context.Background(), filepath.Join(root, "many.md"))
	if err != nil || rep.Added != 1 || ix.Len() != 50 {
		t.Fatalf("%+v %v, %d chunks", rep, err, ix.Len())
	}
}

func TestParseBoundedStopsRunawayParsers(t *testing.T) {
	// A parser that honours its context stops when the deadline passes.
	polite := func(ctx context.Context, _ []byte) (*Parsed, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	start := time.Now()
	_, err := parseBounded(context.Background(), polite, nil, 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "stopped") || time.Since(start) > abandonGrace {
		t.Fatalf("polite parser: %v after %s", err, time.Since(start))
	}
	// One that ignores it is reported as abandoned, after the grace period.
	release := make(chan struct{})
	defer close(release)
	stubborn := func(context.Context, []byte) (*Parsed, error) { <-release; return &Parsed{}, nil }
	_, err = parseBounded(context.Background(), stubborn, nil, 10*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "abandoned") {
		t.Fatalf("stubborn parser: %v", err)
	}
	// A panic is an error, not a crash.
	_, err = parseBounded(context.Background(), func(context.Context, []byte) (*Parsed, error) { panic("boom") }, nil, time.Second)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panicking parser: %v", err)
	}
}

func TestSplitSectionBounds(t *testing.T) {
	long := strings.Repeat("문장입니다. ", 500)
	for _, p := range splitSection(long+"\n\nshort", 300) {
		if n := len([]rune(p)); n > 300 || n == 0 {
			t.Fatalf("piece of %d runes", n)
		}
	}
}
