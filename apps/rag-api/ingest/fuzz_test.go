package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to every parser: none may panic (safeParse
// recovers library panics, but our own code must not need that) or hang, and
// whatever is accepted chunks into non-empty passages.
func FuzzParse(f *testing.F) {
	f.Add("a.pdf", makePDF(f, "T", []string{"hello", "world"}))
	f.Add("a.docx", makeDOCX(f, []string{"Heading1|T", "|body"}))
	f.Add("a.md", []byte("---\ntitle: x\ngroups: [a]\n---\n# H\n\ntext\n\n- item\n"))
	f.Add("a.html", []byte("<title>t</title><h1>h</h1><p>p</p><meta name=acl content=a,b>"))
	f.Add("a.txt", []byte("plain\n\ntext"))
	for _, name := range []string{"python-docx.docx", "korean-word-styles.docx", "ghostscript.pdf", "libreoffice-impress.pptx",
		"openpyxl.xlsx", "excel-cp949.csv", "hancom-table.hwpx", "hancom-table.hwp"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "producers", name)); err == nil {
			f.Add(name, b)
		}
	}
	in := &Ingester{PDF: sharedPDF}
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		p, err := in.Parse(context.Background(), name, b)
		if err != nil {
			return
		}
		cs, _ := Chunk("file:///x", "t", true, nil, p, 100)
		for _, c := range cs {
			if c.Text == "" {
				t.Fatal("empty chunk")
			}
		}
	})
}

// FuzzACLFile: any bytes are a list of valid group names or an error.
func FuzzACLFile(f *testing.F) {
	f.Add([]byte("hr, finance\n# comment\n"))
	f.Add([]byte("\ufeffhr\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		gs, err := parseACLFile("x.acl", b)
		if err != nil {
			return
		}
		if len(gs) == 0 {
			t.Fatal("no groups and no error")
		}
		for _, g := range gs {
			if g == "" || checkGroup(g) != nil {
				t.Fatalf("bad group %q accepted", g)
			}
		}
	})
}

// FuzzFrontMatter: a header either yields groups, an ACL error, or no ACL.
func FuzzFrontMatter(f *testing.F) {
	f.Add([]byte("---\ngroups: [hr]\n---\nbody"))
	f.Add([]byte("---\ngroup: hr\n---\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fm, _, err := splitFrontMatter(b)
		if err != nil || fm.ACLErr != nil {
			return
		}
		if fm.HasACL && len(fm.Groups) == 0 {
			t.Fatal("an ACL with no group was accepted")
		}
	})
}
