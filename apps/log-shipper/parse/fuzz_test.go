package parse

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// seed adds every testdata file of a source, whole and line by line.
func seed(f *testing.F, dir string) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", dir, "*"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		for _, l := range bytes.Split(b, []byte("\n")) {
			f.Add(l)
		}
	}
}

// fuzzParse checks the invariants every parser keeps on any input: no
// panic, no error without a reader failure, records well formed, and (for
// line formats) every non-blank line accounted for exactly once.
func fuzzParse(f *testing.F, source string, lineFormat bool) {
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := New(source)
		if err != nil {
			t.Fatal(err)
		}
		c := &Collect{}
		if err := p.Parse(context.Background(), bytes.NewReader(data), "fuzz", c); err != nil {
			t.Fatalf("Parse: %v", err)
		}
		n := len(p.Source().Columns)
		for _, r := range c.Records {
			if len(r.Values) != n || r.Time.IsZero() {
				t.Fatalf("malformed record %+v", r)
			}
			if tv := r.Values[p.Source().TimeIndex()]; tv.Kind != schema.Timestamp || !tv.Time().Equal(r.Time.Truncate(1000)) {
				t.Fatalf("time column %v != record time %v", tv.Time(), r.Time)
			}
		}
		for _, b := range c.Bads {
			if b.Line < 1 || b.Reason == "" {
				t.Fatalf("bad without position/reason: %+v", b)
			}
		}
		if !lineFormat {
			return
		}
		lines := 0
		for _, l := range bytes.Split(data, []byte("\n")) {
			l = bytes.TrimSuffix(l, []byte("\r"))
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
			}
		}
		// Headers and directives are counted as skipped, never dropped.
		if got := len(c.Records) + len(c.Bads) + c.SkipCount(); got != lines {
			t.Fatalf("%d records + %d bad + %d skipped != %d lines", len(c.Records), len(c.Bads), c.SkipCount(), lines)
		}
	})
}

func FuzzALB(f *testing.F) {
	seed(f, "alb")
	fuzzParse(f, schema.ALB, true)
}

func FuzzVPCFlow(f *testing.F) {
	seed(f, "vpcflow")
	fuzzParse(f, schema.VPCFlow, true)
}

func FuzzCloudFront(f *testing.F) {
	seed(f, "cloudfront")
	fuzzParse(f, schema.CloudFront, true)
}

func FuzzWAF(f *testing.F) {
	seed(f, "waf")
	fuzzParse(f, schema.WAF, false)
}

func FuzzCloudTrail(f *testing.F) {
	seed(f, "cloudtrail")
	fuzzParse(f, schema.CloudTrail, false)
}

func FuzzContainer(f *testing.F) {
	seed(f, "container")
	fuzzParse(f, schema.Container, false)
}
