package staticsite

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/compose/composetest"
)

func TestMain(m *testing.M) { os.Exit(composetest.Main(m, API{})) }

func xr(spec map[string]any) *resource.Composite {
	return composetest.XR("StaticSite", "marketing", "www", spec)
}

func base() map[string]any {
	return map[string]any{"region": "ap-northeast-2", "accessLogs": map[string]any{"bucket": "lake-raw", "prefix": "cloudfront/"}}
}

func with(k string, v any) map[string]any {
	s := base()
	s[k] = v
	return s
}

func TestInvalidSpec(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   map[string]any
		field  string
	}{
		"CertWrongRegion": {"CloudFront only takes us-east-1 certificates", with("domain", map[string]any{
			"aliases": []any{"www.example.com"}, "certificateArn": "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc-123"}), "spec.domain.certificateArn"},
		"NoAliases":     {"a domain without aliases serves nothing", with("domain", map[string]any{"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}), "spec.domain.aliases"},
		"NoLogs":        {"access logs are required", map[string]any{"region": "ap-northeast-2"}, "spec.accessLogs.bucket"},
		"BadPriceClass": {"price classes are an enum", with("priceClass", "PriceClass_1"), "spec.priceClass"},
		"BadBucket":     {"bucket names are DNS labels", with("bucketName", "My_Bucket"), "spec.bucketName"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := API{}.Compose(context.Background(), &compose.Request{XR: xr(tc.spec)})
			fe, ok := compose.AsFieldError(err)
			if !ok || fe.Field != tc.field {
				t.Fatalf("%s: want a field error on %s, got %v", tc.reason, tc.field, err)
			}
		})
	}
}

// TestBucketPolicyWaitsForDistribution: the policy names the distribution's
// ARN, which exists only once CloudFront created it.
func TestBucketPolicyWaitsForDistribution(t *testing.T) {
	res, err := API{}.Compose(context.Background(), &compose.Request{XR: xr(base())})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Resources["bucket-policy"]; ok {
		t.Fatal("bucket policy composed before the distribution exists")
	}
	dist := composed.New()
	dist.SetAPIVersion("cloudfront.aws.m.upbound.io/v1beta1")
	dist.SetKind("Distribution")
	_ = dist.SetValue("status.atProvider", map[string]any{"arn": "arn:aws:cloudfront::123456789012:distribution/E2ABC", "id": "E2ABC", "domainName": "d1.cloudfront.net"})
	req := &compose.Request{XR: xr(base()), Observed: map[resource.Name]resource.ObservedComposed{"distribution": {Resource: dist}}}
	res, err = API{}.Compose(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	cd, err := composed.From(res.Resources["bucket-policy"])
	if err != nil {
		t.Fatalf("no bucket policy once the distribution exists: %v", err)
	}
	raw, _ := cd.GetString("spec.forProvider.policy")
	var doc struct {
		Statement []struct {
			Effect    string
			Principal any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	allow := doc.Statement[0]
	if allow.Effect != "Allow" || allow.Condition["StringEquals"]["AWS:SourceArn"] != "arn:aws:cloudfront::123456789012:distribution/E2ABC" {
		t.Errorf("the allow statement must be limited to this distribution: %+v", allow)
	}
	for _, s := range doc.Statement {
		if s.Effect == "Allow" && s.Principal == "*" {
			t.Errorf("public allow statement: %+v", s)
		}
	}
	if res.Status["distributionDomainName"] != "d1.cloudfront.net" || res.Status["distributionId"] != "E2ABC" {
		t.Errorf("status = %v", res.Status)
	}
	if !strings.HasSuffix(res.Status["bucketName"].(string), "-site") {
		t.Errorf("default bucket name = %v", res.Status["bucketName"])
	}
}
