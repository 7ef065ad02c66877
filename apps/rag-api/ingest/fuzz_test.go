package ingest

import (
	"testing"
)

// FuzzParse feeds arbitrary bytes to every loader: none may panic (safeParse
// recovers library panics, but our own code must not need that) or hang.
func FuzzParse(f *testing.F) {
	f.Add("a.pdf", makePDF(f, "T", []string{"hello", "world"}))
	f.Add("a.docx", makeDOCX(f, []string{"Heading1|T", "|body"}))
	f.Add("a.md", []byte("---\ntitle: x\ngroups: [a]\n---\n# H\n\ntext\n\n- item\n"))
	f.Add("a.html", []byte("<title>t</title><h1>h</h1><p>p</p><meta name=acl content=a,b>"))
	f.Add("a.txt", []byte("plain\n\ntext"))
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		if _, ok := parserFor(name); !ok {
			return
		}
		p, err := Parse(name, b)
		if err != nil {
			return
		}
		for _, c := range Chunk("file:///x", "t", nil, p) {
			if c.Text == "" {
				t.Fatal("empty chunk")
			}
		}
	})
}
