package staticsite

import (
	"context"
	"encoding/json"
	"fmt"

	cloudcontrol "github.com/upbound/provider-aws/v2/apis/namespaced/cloudcontrol/v1beta1"
	cloudfront "github.com/upbound/provider-aws/v2/apis/namespaced/cloudfront/v1beta1"
	s3 "github.com/upbound/provider-aws/v2/apis/namespaced/s3/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/unsilo/unsilo/functions/compose"
)

// API composes StaticSite XRs.
type API struct{}

// Kind implements compose.API.
func (API) Kind() string { return "StaticSite" }

// AddToScheme implements compose.API.
func (API) AddToScheme(s *runtime.Scheme) error {
	return compose.AddToScheme(s, s3.AddToScheme, cloudfront.AddToScheme, cloudcontrol.AddToScheme)
}

// cachingOptimized is AWS's managed cache policy for static content.
const cachingOptimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"

type builder struct {
	req  *compose.Request
	spec *Spec
	tag  *compose.Tagger
	out  *compose.Result
}

// Compose implements compose.API.
func (API) Compose(_ context.Context, req *compose.Request) (*compose.Result, error) {
	spec, err := readSpec(req.XR)
	if err != nil {
		return nil, err
	}
	b := &builder{req: req, spec: spec, tag: compose.NewTagger(req.XR), out: compose.NewResult()}
	b.bucket()
	b.distribution()
	if err := b.bucketPolicy(); err != nil {
		return nil, err
	}
	if err := b.accessLogs(); err != nil {
		return nil, err
	}
	b.status()
	return b.out, nil
}

func (b *builder) meta(name string) metav1.ObjectMeta {
	return compose.Meta(b.req.XR, name, nil)
}

func (b *builder) bucket() {
	region := compose.Ptr(b.spec.Region)
	m := b.meta("bucket")
	// The bucket's name is global; name it explicitly rather than let
	// Crossplane generate one, so the site's origin is predictable.
	m.Annotations = map[string]string{"crossplane.io/external-name": b.spec.BucketName}
	b.out.Add("bucket", &s3.Bucket{
		ObjectMeta: m,
		Spec:       s3.BucketSpec{ForProvider: s3.BucketParameters{Region: region, Tags: b.tag.Tags("bucket")}},
	})
	b.out.Add("bucket-public-access-block", &s3.BucketPublicAccessBlock{
		ObjectMeta: b.meta("bucket-public-access-block"),
		Spec: s3.BucketPublicAccessBlockSpec{ForProvider: s3.BucketPublicAccessBlockParameters{
			Region: region, BucketSelector: ref("bucket"),
			BlockPublicAcls: compose.Ptr(true), BlockPublicPolicy: compose.Ptr(true),
			IgnorePublicAcls: compose.Ptr(true), RestrictPublicBuckets: compose.Ptr(true),
		}},
	})
	b.out.Add("bucket-encryption", &s3.BucketServerSideEncryptionConfiguration{
		ObjectMeta: b.meta("bucket-encryption"),
		Spec: s3.BucketServerSideEncryptionConfigurationSpec{ForProvider: s3.BucketServerSideEncryptionConfigurationParameters{
			Region: region, BucketSelector: ref("bucket"),
			// SSE-S3: CloudFront with OAC reads it without a KMS key grant.
			Rule: []s3.BucketServerSideEncryptionConfigurationRuleParameters{{
				ApplyServerSideEncryptionByDefault: &s3.RuleApplyServerSideEncryptionByDefaultParameters{SseAlgorithm: compose.Ptr("AES256")},
				BucketKeyEnabled:                   compose.Ptr(true),
			}},
		}},
	})
	b.out.Add("bucket-versioning", &s3.BucketVersioning{
		ObjectMeta: b.meta("bucket-versioning"),
		Spec: s3.BucketVersioningSpec{ForProvider: s3.BucketVersioningParameters{
			Region: region, BucketSelector: ref("bucket"),
			VersioningConfiguration: &s3.VersioningConfigurationParameters{Status: compose.Ptr("Enabled")},
		}},
	})
	b.out.Add("bucket-ownership", &s3.BucketOwnershipControls{
		ObjectMeta: b.meta("bucket-ownership"),
		Spec: s3.BucketOwnershipControlsSpec{ForProvider: s3.BucketOwnershipControlsParameters{
			Region: region, BucketSelector: ref("bucket"),
			Rule: &s3.BucketOwnershipControlsRuleParameters{ObjectOwnership: compose.Ptr("BucketOwnerEnforced")},
		}},
	})
}

func (b *builder) distribution() {
	b.out.Add("origin-access-control", &cloudfront.OriginAccessControl{
		ObjectMeta: b.meta("origin-access-control"),
		Spec: cloudfront.OriginAccessControlSpec{ForProvider: cloudfront.OriginAccessControlParameters{
			Name:                          compose.Ptr(compose.Name(b.req.XR, "oac")),
			Description:                   compose.Ptr("CloudFront signs every request to the site's bucket"),
			OriginAccessControlOriginType: compose.Ptr("s3"),
			SigningBehavior:               compose.Ptr("always"),
			SigningProtocol:               compose.Ptr("sigv4"),
		}},
	})
	// The origin names its access control by the id AWS reported, not by a
	// selector: a selector inside the origin list makes the provider's
	// reference resolver and Crossplane's apply own that atomic list in
	// turn, rewriting the distribution on every pass.
	oac := b.req.AtProvider("origin-access-control", "id")
	if oac == "" {
		b.out.Defer("distribution", "the id of origin-access-control")
		return
	}
	const origin = "s3-site"
	cert := &cloudfront.ViewerCertificateParameters{CloudfrontDefaultCertificate: compose.Ptr(true)}
	var aliases []*string
	if d := b.spec.Domain; d != nil {
		cert = &cloudfront.ViewerCertificateParameters{
			AcmCertificateArn:      compose.Ptr(d.CertificateARN),
			SSLSupportMethod:       compose.Ptr("sni-only"),
			MinimumProtocolVersion: compose.Ptr("TLSv1.2_2021"),
		}
		for _, a := range d.Aliases {
			aliases = append(aliases, compose.Ptr(a))
		}
	}
	b.out.Add("distribution", &cloudfront.Distribution{
		ObjectMeta: b.meta("distribution"),
		Spec: cloudfront.DistributionSpec{ForProvider: cloudfront.DistributionParameters{
			Enabled:           compose.Ptr(true),
			Comment:           compose.Ptr(compose.Name(b.req.XR, "site")),
			Aliases:           aliases,
			DefaultRootObject: compose.Ptr(b.spec.DefaultRootObject),
			HTTPVersion:       compose.Ptr("http2and3"),
			IsIPv6Enabled:     compose.Ptr(true),
			PriceClass:        compose.Ptr(b.spec.PriceClass),
			Origin: []cloudfront.OriginParameters{{
				OriginID:              compose.Ptr(origin),
				DomainName:            compose.Ptr(fmt.Sprintf("%s.s3.%s.amazonaws.com", b.spec.BucketName, b.spec.Region)),
				OriginAccessControlID: compose.Ptr(oac),
			}},
			DefaultCacheBehavior: &cloudfront.DefaultCacheBehaviorParameters{
				TargetOriginID:       compose.Ptr(origin),
				ViewerProtocolPolicy: compose.Ptr("redirect-to-https"),
				AllowedMethods:       []*string{compose.Ptr("GET"), compose.Ptr("HEAD"), compose.Ptr("OPTIONS")},
				CachedMethods:        []*string{compose.Ptr("GET"), compose.Ptr("HEAD")},
				CachePolicyID:        compose.Ptr(cachingOptimized),
				Compress:             compose.Ptr(true),
			},
			Restrictions: &cloudfront.RestrictionsParameters{GeoRestriction: &cloudfront.GeoRestrictionParameters{
				RestrictionType: compose.Ptr("none"),
			}},
			ViewerCertificate: cert,
			Tags:              b.tag.Tags("distribution"),
		}},
	})
}

// bucketPolicy lets only this distribution read the bucket, and only over
// TLS. It needs the distribution's ARN, so it is composed once the
// distribution exists; the XR is not Ready until it is.
func (b *builder) bucketPolicy() error {
	arn := b.req.AtProvider("distribution", "arn")
	if arn == "" {
		b.out.Defer("bucket-policy", "the ARN of distribution")
		return nil
	}
	bucketARN := "arn:aws:s3:::" + b.spec.BucketName
	doc, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Sid":       "CloudFrontReadsThroughOAC",
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "cloudfront.amazonaws.com"},
			"Action":    "s3:GetObject",
			"Resource":  bucketARN + "/*",
			"Condition": map[string]any{"StringEquals": map[string]any{"AWS:SourceArn": arn}},
		}, {
			"Sid":       "TLSOnly",
			"Effect":    "Deny",
			"Principal": "*",
			"Action":    "s3:*",
			"Resource":  []string{bucketARN, bucketARN + "/*"},
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		}},
	})
	if err != nil {
		return fmt.Errorf("cannot encode the bucket policy: %w", err)
	}
	b.out.Add("bucket-policy", &s3.BucketPolicy{
		ObjectMeta: b.meta("bucket-policy"),
		Spec: s3.BucketPolicySpec{ForProvider: s3.BucketPolicyParameters{
			Region: compose.Ptr(b.spec.Region), BucketSelector: ref("bucket"), Policy: compose.Ptr(string(doc)),
		}},
	})
	return nil
}

func (b *builder) status() {
	st := b.out.Status
	st["bucketName"] = b.spec.BucketName
	if v := b.req.AtProvider("distribution", "domainName"); v != "" {
		st["distributionDomainName"] = v
	}
	if v := b.req.AtProvider("distribution", "id"); v != "" {
		st["distributionId"] = v
	}
}

// ref selects a sibling composed resource of this XR.
var ref = compose.Sibling
