package network

import (
	"context"
	"testing"

	"github.com/unsilo/unsilo/functions/compose"
)

// FuzzCompose: whatever a user writes in a spec, Compose returns resources
// or a field error naming the field; it never panics.
func FuzzCompose(f *testing.F) {
	f.Add("10.0.0.0/16", int64(3), "perAZ", "ap-northeast-2", "arn:aws:s3:::lake/vpcflow/")
	f.Add("10.0.0.0/24", int64(6), "single", "us-east-1", "arn:aws:s3:::lake")
	f.Add("0.0.0.0/0", int64(-1), "", "", "")
	f.Add("192.168.0.0/28", int64(2), "perAZ", "x", "arn:aws-cn:s3:::b-b/p")
	f.Fuzz(func(t *testing.T, cidr string, az int64, nat, region, arn string) {
		spec := map[string]any{
			"region": region, "cidr": cidr, "azCount": az, "natMode": nat,
			"flowLogs": map[string]any{"destinationArn": arn},
		}
		res, err := API{}.Compose(context.Background(), &compose.Request{XR: xr(spec)})
		if err != nil {
			if _, ok := compose.AsFieldError(err); !ok {
				t.Fatalf("error is not a field error: %v", err)
			}
			return
		}
		if len(res.Resources) == 0 {
			t.Fatal("no resources and no error")
		}
	})
}
