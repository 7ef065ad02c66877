package gen

import (
	"bytes"
	"context"
	"testing"

	"github.com/unsilo/unsilo/apps/log-shipper/parse"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

func TestGeneratedLogsParse(t *testing.T) {
	for _, src := range schema.Names() {
		t.Run(src, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := Write(&a, Options{Type: src, Lines: 500, Seed: 7}); err != nil {
				t.Fatal(err)
			}
			if err := Write(&b, Options{Type: src, Lines: 500, Seed: 7}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("same seed, different output")
			}
			if parse.Detect(a.Bytes()) != src {
				t.Errorf("Detect = %q", parse.Detect(a.Bytes()))
			}
			p, _ := parse.New(src)
			c := &parse.Collect{}
			if err := p.Parse(context.Background(), &a, "gen", c); err != nil {
				t.Fatal(err)
			}
			if len(c.Records) != 500 || len(c.Bads) != 0 {
				t.Fatalf("records %d bad %+v", len(c.Records), c.Bads[:min(3, len(c.Bads))])
			}
			if src == schema.CloudTrail {
				return // one JSON document: corruption is per file, not per line
			}
			var bad bytes.Buffer
			if err := Write(&bad, Options{Type: src, Lines: 500, Seed: 7, BadEvery: 50}); err != nil {
				t.Fatal(err)
			}
			c = &parse.Collect{}
			if err := p.Parse(context.Background(), &bad, "gen", c); err != nil {
				t.Fatal(err)
			}
			if len(c.Bads) < 5 || len(c.Records)+len(c.Bads) != 500 {
				t.Fatalf("with corruption: records %d bad %d", len(c.Records), len(c.Bads))
			}
		})
	}
}
