package render_test

import (
	"context"
	"testing"

	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

// TestConverge: resources that wait for another's ARN appear in the
// converged render but not in the first one.
func TestConverge(t *testing.T) {
	cases := map[string]struct {
		reason string
		file   string
		late   []string
	}{
		"StaticSite": {"the bucket policy needs the distribution's ARN", "../../compositions/staticsite/examples/prod.yaml", []string{"bucket-policy"}},
		"Cluster":    {"the cluster needs its key; node groups and add-ons need the cluster", "../../compositions/cluster/examples/prod.yaml", []string{"cluster", "nodegroup-system", "addon-coredns", "kubeconfig"}},
		"WebPortal":  {"the WAF association needs the ALB's ARN", "../../compositions/webportal/examples/prod.yaml", []string{"waf-alb"}},
		"DataLake":   {"Firehose, the crawlers and the ingest queues need the key's ARN; the trail needs the raw bucket's policy, the bucket notifications the queue's", "../../compositions/datalake/examples/prod.yaml", []string{"firehose", "firehose-role", "crawler-role", "crawler-cloudtrail", "trail", "ingest-queue", "ingest-dlq", "raw-bucket-notification", "alb-bucket-notification"}},
	}
	fn := newServer(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs, err := manifest.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			in := render.Input{XR: objs[len(objs)-1].Unstructured, Available: withPlatform(t, objs)}
			first, err := render.Render(context.Background(), fn, in)
			if err != nil {
				t.Fatal(err)
			}
			all, err := render.Converge(context.Background(), fn, in)
			if err != nil {
				t.Fatal(err)
			}
			has := func(out *render.Output, n string) bool {
				for _, cd := range out.Composed {
					if cd.GetAnnotations()[render.AnnotationResourceName] == n {
						return true
					}
				}
				return false
			}
			for _, n := range tc.late {
				if has(first, n) || !has(all, n) {
					t.Errorf("%s: %s should appear only once converged (first: %v, converged: %v)", tc.reason, n, has(first, n), has(all, n))
				}
			}
		})
	}
}
