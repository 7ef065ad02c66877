package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unsilo/unsilo/apps/rag-api/index"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

// BenchmarkIngest reports pages/s over a mixed folder (10-page PDFs, DOCX,
// Markdown), from parse to the committed, searchable index.
func BenchmarkIngest(b *testing.B) {
	root := b.TempDir()
	para := strings.Repeat("Backups run nightly and are kept for 35 days. ", 20)
	pages := make([]string, 10)
	for i := range pages {
		pages[i] = fmt.Sprintf("Page %d. %s", i+1, para)
	}
	for i := 0; i < 20; i++ {
		writeB(b, filepath.Join(root, fmt.Sprintf("m%d.pdf", i)), makePDF(b, "Manual", pages))
		writeB(b, filepath.Join(root, fmt.Sprintf("d%d.docx", i)), makeDOCX(b, []string{"Heading1|Policy", "|" + para, "Heading2|Details", "|" + para}))
		writeB(b, filepath.Join(root, fmt.Sprintf("n%d.md", i)), []byte("# 휴가 규정\n\n"+strings.Repeat("연차 휴가는 매년 15일이다. ", 50)+"\n\n## 신청\n\n"+para))
	}
	an, _ := search.NewAnalyzer(search.DefaultAnalyzer)
	totalPages := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix, err := index.Open(filepath.Join(b.TempDir(), "ix.db"), an, index.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := (&Ingester{Index: ix, PDF: sharedPDF}).Path(context.Background(), root)
		if err != nil || len(rep.Skipped) > 0 {
			b.Fatal(err, rep.Skipped)
		}
		totalPages += rep.Pages
		ix.Close()
	}
	b.ReportMetric(float64(totalPages)/b.Elapsed().Seconds(), "pages/s")
}
