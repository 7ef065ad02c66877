package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/store"
)

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func allChunks(t *testing.T, s *store.Store) map[string][]*doc.Chunk {
	t.Helper()
	out := map[string][]*doc.Chunk{}
	if err := s.Chunks(func(c *doc.Chunk) error {
		out[filepath.Base(c.Source)] = append(out[filepath.Base(c.Source)], c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIngestDirFormatsACLAndHostileFiles(t *testing.T) {
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
	write(t, filepath.Join(root, "huge.txt"), []byte(strings.Repeat("a", 300<<10)))

	st, err := store.Open(filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in := &Ingester{Store: st, MaxFileBytes: 200 << 10}
	rep, err := in.Dir(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 5 || len(rep.Skipped) != 4 {
		t.Fatalf("added %d, skipped %+v", rep.Added, rep.Skipped)
	}
	reasons := map[string]string{}
	for _, s := range rep.Skipped {
		reasons[filepath.Base(s.Source)] = s.Reason
	}
	for name, want := range map[string]string{"bad.pdf": "pdf", "bomb.docx": "exceeds limit", "binary.txt": "UTF-8", "huge.txt": "limit is 204800"} {
		if !strings.Contains(reasons[name], want) {
			t.Errorf("%s: reason %q, want it to mention %q", name, reasons[name], want)
		}
	}
	got := allChunks(t, st)
	md := got["guide.md"]
	if len(md) != 2 || md[0].Title != "휴가 규정" || md[1].Heading != "휴가 > 신청" || strings.Join(md[0].Groups, ",") != "hr" {
		t.Errorf("markdown chunks: %+v %+v", md[0], md[len(md)-1])
	}
	pdf := got["manual.pdf"]
	if len(pdf) != 2 || pdf[1].Page != 2 || !strings.Contains(pdf[1].Text, "restores") || pdf[0].Title != "Manual" {
		t.Errorf("pdf chunks: %+v", pdf)
	}
	dx := got["policy.docx"]
	if len(dx) != 2 || dx[1].Heading != "MFA" || dx[0].Title != "Security Policy" || strings.Join(dx[0].Groups, ",") != "admins,security" {
		t.Errorf("docx chunks: %+v", dx)
	}
	h := got["page.html"]
	if len(h) != 2 || h[0].Title != "VPN Guide" || strings.Contains(h[0].Text, "evil") || strings.Contains(h[0].Text, "menu") {
		t.Errorf("html chunks: %+v", h)
	}
	if b := got["budget.txt"]; len(b) != 1 || strings.Join(b[0].Groups, ",") != "finance" {
		t.Errorf("dir acl: %+v", b)
	}

	// Second run: nothing changed. Then edit one, delete one, change an ACL.
	rep, err = in.Dir(context.Background(), root)
	if err != nil || rep.Unchanged != 5 || rep.Added+rep.Updated != 0 {
		t.Fatalf("re-run: %+v %v", rep, err)
	}
	write(t, filepath.Join(root, "page.html"), []byte(`<h1>VPN</h1><p>New text.</p>`))
	os.Remove(filepath.Join(root, "secret", "budget.txt"))
	write(t, filepath.Join(root, "policy.docx.acl"), []byte("security\n"))
	rep, err = in.Dir(context.Background(), root)
	if err != nil || rep.Updated != 2 || rep.Removed != 1 || rep.Unchanged != 2 {
		t.Fatalf("incremental: %+v %v", rep, err)
	}
	got = allChunks(t, st)
	if _, ok := got["budget.txt"]; ok {
		t.Error("deleted file still indexed")
	}
	if g := got["policy.docx"][0].Groups; strings.Join(g, ",") != "security" {
		t.Errorf("acl change not picked up: %v", g)
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
