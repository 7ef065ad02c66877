package manifest

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := map[string]struct {
		reason  string
		in      string
		lines   []int
		wantErr string
	}{
		"MultiDoc": {
			reason: "documents keep the line of their first content line",
			in:     "---\n# comment\napiVersion: v1\nkind: A\n---\n\napiVersion: v1\nkind: B\n",
			lines:  []int{3, 7},
		},
		"EmptyDocs": {
			reason: "empty and comment-only documents are skipped",
			in:     "---\n---\n# nothing\n---\napiVersion: v1\nkind: A\n",
			lines:  []int{5},
		},
		"NoKind": {
			reason:  "a document without kind names its line",
			in:      "apiVersion: v1\nkind: A\n---\nfoo: bar\n",
			wantErr: "f.yaml:4: document has no apiVersion or kind",
		},
		"DuplicateKey": {
			reason:  "duplicate keys are an error, not a silent overwrite",
			in:      "apiVersion: v1\nkind: A\nkind: B\n",
			wantErr: "f.yaml:1: invalid YAML",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs, err := Parse("f.yaml", []byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("%s: want error containing %q, got %v", tc.reason, tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			var got []int
			for _, o := range objs {
				got = append(got, o.Line)
			}
			if len(got) != len(tc.lines) {
				t.Fatalf("%s: lines %v, want %v", tc.reason, got, tc.lines)
			}
			for i := range got {
				if got[i] != tc.lines[i] {
					t.Fatalf("%s: lines %v, want %v", tc.reason, got, tc.lines)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\n"))
	f.Add([]byte("---\n# c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		objs, err := Parse("fuzz.yaml", b)
		if err != nil {
			return
		}
		for _, o := range objs {
			if o.GetKind() == "" || o.Line < 1 {
				t.Fatalf("object without kind or line: %+v", o)
			}
		}
	})
}
