package datalake

import (
	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	s3 "github.com/upbound/provider-aws/v2/apis/namespaced/s3/v1beta1"

	"github.com/unsilo/unsilo/functions/awsfacts"
	"github.com/unsilo/unsilo/functions/compose"
)

// Prefixes of the raw zone, one per delivering service. Producers are
// configured with them (Network flowLogs.destinationArn .../vpcflow/,
// WebPortal accessLogs.prefix alb/..., CloudFront v2 delivery cloudfront/...).
const (
	prefixVPCFlow    = "vpcflow/"
	prefixCloudFront = "cloudfront/"
	prefixCloudTrail = "cloudtrail"
	prefixWAF        = "waf/"
	prefixWAFErrors  = "waf-errors/"
	prefixALB        = "alb"
	prefixAthena     = "athena-results/"
)

// zone is what differs between the lake's buckets.
type zone struct {
	name string
	// kms: SSE-KMS with the lake key; otherwise SSE-S3 (the ALB zone:
	// "The only server-side encryption option that's supported is SSE-S3",
	// Elastic Load Balancing user guide, enable access logs).
	kms       bool
	lifecycle []s3.BucketLifecycleConfigurationRuleParameters
	policy    []map[string]any
}

func (b *builder) buckets() {
	raw, cur := b.spec.Retention.Raw, b.spec.Retention.Curated
	rawRules := []s3.BucketLifecycleConfigurationRuleParameters{lifecycle("raw-tiering",
		[]s3.RuleTransitionParameters{transition(raw.InfrequentAccessAfterDays, "STANDARD_IA"), transition(raw.GlacierAfterDays, "GLACIER_IR")},
		raw.ExpireAfterDays)}
	curatedRules := []s3.BucketLifecycleConfigurationRuleParameters{lifecycle("curated-tiering",
		[]s3.RuleTransitionParameters{transition(cur.InfrequentAccessAfterDays, "STANDARD_IA")}, cur.ExpireAfterDays)}
	for _, z := range []zone{
		{name: zoneRaw, kms: true, lifecycle: rawRules, policy: b.rawPolicy()},
		{name: zoneCurated, kms: true, lifecycle: curatedRules},
		{name: zoneALB, lifecycle: rawRules, policy: b.albPolicy()},
	} {
		b.bucket(z)
	}
}

func transition(days int, class string) s3.RuleTransitionParameters {
	return s3.RuleTransitionParameters{Days: compose.Ptr(float64(days)), StorageClass: compose.Ptr(class)}
}

// lifecycle is one whole-bucket rule; versioning is on, so old versions
// expire 30 days after being replaced and failed multipart uploads after 7.
func lifecycle(id string, transitions []s3.RuleTransitionParameters, expire int) s3.BucketLifecycleConfigurationRuleParameters {
	return s3.BucketLifecycleConfigurationRuleParameters{
		ID: compose.Ptr(id), Status: compose.Ptr("Enabled"),
		Filter:                         []s3.RuleFilterParameters{{Prefix: compose.Ptr("")}},
		Transition:                     transitions,
		Expiration:                     []s3.RuleExpirationParameters{{Days: compose.Ptr(float64(expire))}},
		NoncurrentVersionExpiration:    []s3.RuleNoncurrentVersionExpirationParameters{{NoncurrentDays: compose.Ptr(30.0)}},
		AbortIncompleteMultipartUpload: []s3.AbortIncompleteMultipartUploadParameters{{DaysAfterInitiation: compose.Ptr(7.0)}},
	}
}

func (b *builder) bucket(z zone) {
	region, name := b.region(), z.name+"-bucket"
	sel := ref(name)
	b.out.Add(name, &s3.Bucket{
		ObjectMeta: b.named(name, b.spec.bucket(z.name)),
		Spec:       s3.BucketSpec{ForProvider: s3.BucketParameters{Region: region, Tags: b.tag.Tags(name)}},
	})
	b.out.Add(name+"-public-access-block", &s3.BucketPublicAccessBlock{
		ObjectMeta: b.meta(name + "-public-access-block"),
		Spec: s3.BucketPublicAccessBlockSpec{ForProvider: s3.BucketPublicAccessBlockParameters{
			Region: region, BucketSelector: sel,
			BlockPublicAcls: compose.Ptr(true), BlockPublicPolicy: compose.Ptr(true),
			IgnorePublicAcls: compose.Ptr(true), RestrictPublicBuckets: compose.Ptr(true),
		}},
	})
	b.encryption(z, name, sel)
	b.out.Add(name+"-versioning", &s3.BucketVersioning{
		ObjectMeta: b.meta(name + "-versioning"),
		Spec: s3.BucketVersioningSpec{ForProvider: s3.BucketVersioningParameters{
			Region: region, BucketSelector: sel,
			VersioningConfiguration: &s3.VersioningConfigurationParameters{Status: compose.Ptr("Enabled")},
		}},
	})
	// ACLs off. CloudFront's legacy standard logging writes with an ACL
	// grant and cannot deliver here; CloudFront logs reach the lake through
	// standard logging v2 (CloudWatch vended delivery, delivery.logs).
	b.out.Add(name+"-ownership", &s3.BucketOwnershipControls{
		ObjectMeta: b.meta(name + "-ownership"),
		Spec: s3.BucketOwnershipControlsSpec{ForProvider: s3.BucketOwnershipControlsParameters{
			Region: region, BucketSelector: sel,
			Rule: &s3.BucketOwnershipControlsRuleParameters{ObjectOwnership: compose.Ptr("BucketOwnerEnforced")},
		}},
	})
	b.out.Add(name+"-lifecycle", &s3.BucketLifecycleConfiguration{
		ObjectMeta: b.meta(name + "-lifecycle"),
		Spec: s3.BucketLifecycleConfigurationSpec{ForProvider: s3.BucketLifecycleConfigurationParameters{
			Region: region, BucketSelector: sel, Rule: z.lifecycle,
		}},
	})
	arn := "arn:aws:s3:::" + b.spec.bucket(z.name)
	statements := append([]map[string]any{{
		"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
		"Resource":  []string{arn, arn + "/*"},
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}}, z.policy...)
	b.out.Add(name+"-policy", &s3.BucketPolicy{
		ObjectMeta: b.meta(name + "-policy"),
		Spec: s3.BucketPolicySpec{ForProvider: s3.BucketPolicyParameters{
			Region: region, BucketSelector: sel, Policy: compose.Ptr(doc(statements...)),
		}},
	})
}

// rawPolicy admits the services that deliver to the raw bucket, each only
// under its prefix and only for this account. Firehose needs no statement:
// it writes as its own role (same account), which IAM allows.
func (b *builder) rawPolicy() []map[string]any {
	acct, arn := b.spec.AccountID, "arn:aws:s3:::"+b.spec.bucket(zoneRaw)
	fromAccount := map[string]any{"aws:SourceAccount": acct}
	// Any region: CloudFront's v2 delivery lives in us-east-1.
	logsARN := map[string]any{"aws:SourceArn": "arn:aws:logs:*:" + acct + ":*"}
	ownerACL := map[string]any{"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": acct}
	trail := map[string]any{"aws:SourceArn": b.trailARN()}
	return []map[string]any{
		// VPC Flow Logs and CloudFront standard logs v2 are both vended
		// logs: delivery.logs checks the bucket ACL, then writes.
		{"Sid": "LogDeliveryAclCheck", "Effect": "Allow", "Principal": map[string]any{"Service": "delivery.logs.amazonaws.com"},
			"Action": []string{"s3:GetBucketAcl", "s3:ListBucket"}, "Resource": arn,
			"Condition": map[string]any{"StringEquals": fromAccount, "ArnLike": logsARN}},
		// Hive-compatible partitions (the Network's flow logs use them)
		// make AWS write under AWSLogs/aws-account-id=<acct>/, plain ones
		// under AWSLogs/<acct>/.
		{"Sid": "VPCFlowLogsWrite", "Effect": "Allow", "Principal": map[string]any{"Service": "delivery.logs.amazonaws.com"},
			"Action": "s3:PutObject", "Resource": []string{arn + "/" + prefixVPCFlow + "AWSLogs/" + acct + "/*", arn + "/" + prefixVPCFlow + "AWSLogs/aws-account-id=" + acct + "/*"},
			"Condition": map[string]any{"StringEquals": ownerACL, "ArnLike": logsARN}},
		{"Sid": "CloudFrontLogsWrite", "Effect": "Allow", "Principal": map[string]any{"Service": "delivery.logs.amazonaws.com"},
			"Action": "s3:PutObject", "Resource": arn + "/" + prefixCloudFront + "*",
			"Condition": map[string]any{"StringEquals": ownerACL, "ArnLike": logsARN}},
		{"Sid": "CloudTrailAclCheck", "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
			"Action": "s3:GetBucketAcl", "Resource": arn,
			"Condition": map[string]any{"StringEquals": trail}},
		{"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
			"Action": "s3:PutObject", "Resource": arn + "/" + prefixCloudTrail + "/AWSLogs/" + acct + "/*",
			"Condition": map[string]any{"StringEquals": map[string]any{"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": b.trailARN()}}},
	}
}

// albPolicy admits ELB log delivery under alb/ (alb/AWSLogs/... or
// alb/<portal>/AWSLogs/...), for this account's load balancers only.
func (b *builder) albPolicy() []map[string]any {
	acct, arn := b.spec.AccountID, "arn:aws:s3:::"+b.spec.bucket(zoneALB)
	// ELB writes as its regional account in the regions opened before
	// August 2022 and as its service principal in the others
	// (awsfacts.ELBLogAccounts). Both are admitted: AWS documents the
	// service principal for new regions only, and a region moving to it
	// must not stop delivery.
	principal := map[string]any{"Service": awsfacts.ELBLogService}
	if a, _ := awsfacts.ELBLogPrincipal(b.spec.Region); a != "" {
		principal["AWS"] = a
	}
	return []map[string]any{{
		"Sid": "ELBAccessLogsWrite", "Effect": "Allow", "Principal": principal, "Action": "s3:PutObject",
		"Resource": []string{arn + "/" + prefixALB + "/AWSLogs/" + acct + "/*", arn + "/" + prefixALB + "/*/AWSLogs/" + acct + "/*"},
	}}
}

// encryption sets the bucket's default encryption. A KMS zone names the
// lake key by the ARN AWS reported, not by a selector: a selector inside
// the rule list makes the provider's reference resolver own the whole
// (atomic) list while Crossplane applies it without the resolved key, and
// the two rewrite it in turn (the e2e saw 91 generations and, between
// them, no rule at all). Until the key exists the bucket has S3's default
// encryption (SSE-S3).
func (b *builder) encryption(z zone, name string, bucket *xpv1.NamespacedSelector) {
	sse := &s3.RuleApplyServerSideEncryptionByDefaultParameters{SseAlgorithm: compose.Ptr("AES256")}
	if z.kms {
		if b.keyARN == "" {
			b.out.Defer(name+"-encryption", "the ARN of key")
			return
		}
		sse = &s3.RuleApplyServerSideEncryptionByDefaultParameters{SseAlgorithm: compose.Ptr("aws:kms"), KMSMasterKeyID: compose.Ptr(b.keyARN)}
	}
	b.out.Add(name+"-encryption", &s3.BucketServerSideEncryptionConfiguration{
		ObjectMeta: b.meta(name + "-encryption"),
		Spec: s3.BucketServerSideEncryptionConfigurationSpec{ForProvider: s3.BucketServerSideEncryptionConfigurationParameters{
			Region: b.region(), BucketSelector: bucket,
			Rule: []s3.BucketServerSideEncryptionConfigurationRuleParameters{{ApplyServerSideEncryptionByDefault: sse, BucketKeyEnabled: compose.Ptr(true)}},
		}},
	})
}
