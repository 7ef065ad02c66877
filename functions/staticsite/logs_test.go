package staticsite

import (
	"context"
	"encoding/json"
	"github.com/unsilo/unsilo/functions/compose/composetest"
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"

	"github.com/unsilo/unsilo/functions/compose"
)

var observe = composetest.Observed

// TestAccessLogsV2: the lake's bucket has ACLs disabled, so CloudFront's
// legacy logging (an ACL grant) is never used; standard logging v2 delivers
// from us-east-1 under the spec's prefix, step by step as AWS answers.
func TestAccessLogsV2(t *testing.T) {
	const dist = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE"
	const dest = "arn:aws:logs:us-east-1:123456789012:delivery-destination:x"
	cases := map[string]struct {
		reason   string
		observed map[string]map[string]any
		want     []string
		absent   []string
	}{
		"First":        {"nothing to name before the distribution exists", map[string]map[string]any{}, nil, []string{"logs-source", "logs-destination", "logs-delivery"}},
		"Distribution": {"source and destination once the distribution's ARN is known", map[string]map[string]any{"distribution": {"arn": dist}}, []string{"logs-source", "logs-destination"}, []string{"logs-delivery"}},
		"Both": {"the delivery pairs them once both exist", map[string]map[string]any{"distribution": {"arn": dist}, "logs-source": {}, "logs-destination": {"properties": `{"Arn":"` + dest + `"}`}},
			[]string{"logs-source", "logs-destination", "logs-delivery"}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.observed["origin-access-control"] = map[string]any{"id": "E2OACEXAMPLE"}
			res, err := API{}.Compose(context.Background(), &compose.Request{XR: xr(base()), Observed: observe(tc.observed)})
			if err != nil {
				t.Fatal(err)
			}
			d, _ := composed.From(res.Resources["distribution"])
			if _, err := d.GetValue("spec.forProvider.loggingConfig"); err == nil {
				t.Error("legacy loggingConfig: CloudFront refuses a bucket with ACLs disabled")
			}
			for _, n := range tc.want {
				cd, err := composed.From(res.Resources[resource.Name(n)])
				if err != nil {
					t.Fatalf("%s: no %s", tc.reason, n)
				}
				if r, _ := cd.GetString("spec.forProvider.region"); r != "us-east-1" {
					t.Errorf("%s in %s: CloudFront's log sources live in us-east-1", n, r)
				}
			}
			for _, n := range tc.absent {
				if _, ok := res.Resources[resource.Name(n)]; ok {
					t.Errorf("%s: %s composed too early", tc.reason, n)
				}
			}
			if del, ok := res.Resources["logs-delivery"]; ok {
				cd, _ := composed.From(del)
				s, _ := cd.GetString("spec.forProvider.desiredState")
				var st map[string]any
				if err := json.Unmarshal([]byte(s), &st); err != nil {
					t.Fatal(err)
				}
				if st["DeliveryDestinationArn"] != dest || st["S3SuffixPath"] != "cloudfront/{DistributionId}/{yyyy}/{MM}/{dd}/{HH}" {
					t.Errorf("delivery %v", st)
				}
			}
		})
	}
}
