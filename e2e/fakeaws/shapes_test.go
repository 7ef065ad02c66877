package fakeaws

import (
	"regexp"
	"testing"
)

// Ids and ARNs are shaped as AWS returns them, because the functions and
// provider-aws's reference resolvers parse them.
func TestIdentitiesAreShapedAsAWSReturnsThem(t *testing.T) {
	cases := []struct {
		group, kind, name string
		params            map[string]any
		field, pattern    string
		reason            string
	}{
		{"ec2.aws.m.upbound.io", "VPC", "shop", nil, "id", `^vpc-[0-9a-f]{17}$`, "EC2 ids are a prefix and 17 hex digits"},
		{"ec2.aws.m.upbound.io", "Subnet", "a", nil, "arn", `^arn:aws:ec2:ap-northeast-2:123456789012:subnet/subnet-[0-9a-f]{17}$`, "subnet ARN"},
		{"s3.aws.m.upbound.io", "Bucket", "unsilo-lake-raw-dev", nil, "arn", `^arn:aws:s3:::unsilo-lake-raw-dev$`, "S3 ARNs carry no region or account"},
		{"s3.aws.m.upbound.io", "BucketPolicy", "x", map[string]any{"bucket": "b1"}, "id", `^b1$`, "a bucket's sub-resources are keyed by the bucket"},
		{"iam.aws.m.upbound.io", "Role", "rag-api", nil, "arn", `^arn:aws:iam::123456789012:role/rag-api$`, "IAM is global: no region"},
		{"kms.aws.m.upbound.io", "Key", "k", nil, "arn", `^arn:aws:kms:ap-northeast-2:123456789012:key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, "KMS key ids are UUIDs"},
		{"cloudfront.aws.m.upbound.io", "Distribution", "d", nil, "domainName", `^d[0-9a-z]{13}\.cloudfront\.net$`, "CloudFront domain"},
		{"elbv2.aws.m.upbound.io", "LB", "shop", nil, "dnsName", `^shop-[0-9]+\.ap-northeast-2\.elb\.amazonaws\.com$`, "ALB DNS name"},
		{"rds.aws.m.upbound.io", "Instance", "shop-db", nil, "address", `^shop-db\.c[0-9a-z]{11}\.ap-northeast-2\.rds\.amazonaws\.com$`, "RDS endpoint address"},
		{"eks.aws.m.upbound.io", "Cluster", "unsilo-dev", nil, "endpoint", `^https://[0-9A-F]{32}\.gr7\.ap-northeast-2\.eks\.amazonaws\.com$`, "EKS endpoint"},
		{"cloudcontrol.aws.m.upbound.io", "Resource", "www-logs", map[string]any{"typeName": "AWS::Logs::DeliveryDestination", "desiredState": `{"Name":"www"}`},
			"properties", `^\{"Arn":"arn:aws:logs:ap-northeast-2:123456789012:delivery-destination:www","Name":"www"\}$`, "Cloud Control reports the properties as JSON, the read-only Arn included"},
		{"cloudcontrol.aws.m.upbound.io", "Resource", "d", map[string]any{"typeName": "AWS::Logs::Delivery", "desiredState": `{"DeliverySourceName":"www"}`},
			"properties", `"Arn":"arn:aws:logs:ap-northeast-2:123456789012:delivery:[0-9A-Z]{16}"`, "a delivery's id is assigned by AWS"},
		{"firehose.aws.m.upbound.io", "DeliveryStream", "aws-waf-logs-dev", nil, "arn", `^arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/aws-waf-logs-dev$`, "Firehose ARN"},
	}
	for _, c := range cases {
		t.Run(c.kind+"/"+c.field, func(t *testing.T) {
			got := newIdentity(c.group, c.kind, c.name, "ap-northeast-2", c.params).computed[c.field]
			s, _ := got.(string)
			if !regexp.MustCompile(c.pattern).MatchString(s) {
				t.Errorf("%s: %s = %q, want %s", c.reason, c.field, s, c.pattern)
			}
		})
	}
}

// A WebPortal's instance role reads the database's master user secret:
// RDS reports it only when it manages the password.
func TestManagedMasterUserSecret(t *testing.T) {
	got := newIdentity("rds.aws.m.upbound.io", "Instance", "shop-db", "ap-northeast-2", map[string]any{"manageMasterUserPassword": true}).computed["masterUserSecret"]
	l, _ := got.([]any)
	m, _ := func() (map[string]any, bool) {
		if len(l) != 1 {
			return nil, false
		}
		m, ok := l[0].(map[string]any)
		return m, ok
	}()
	arn, _ := m["secretArn"].(string)
	if !regexp.MustCompile(`^arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-[0-9a-f-]{36}-[0-9A-Z]{6}$`).MatchString(arn) {
		t.Errorf("masterUserSecret = %v, want one secret with an rds!db- ARN", got)
	}
	if got := newIdentity("rds.aws.m.upbound.io", "Instance", "shop-db", "ap-northeast-2", nil).computed["masterUserSecret"]; got != nil {
		t.Errorf("masterUserSecret = %v without manageMasterUserPassword, want none", got)
	}
}

func TestAWSErrorsCarryTheCodeAsTheSDKRendersIt(t *testing.T) {
	err := readError("s3.aws.m.upbound.io", "Bucket", "b1", Fault{Code: "AccessDenied", Message: "Access Denied", Status: 403})
	if ErrorCode(err) != "AccessDenied" {
		t.Errorf("ErrorCode = %q, want AccessDenied (errors.As finds the smithy APIError)", ErrorCode(err))
	}
	want := regexp.MustCompile(`^failed to read the resource: \[\{0 reading S3 Bucket \(b1\): operation error S3: HeadBucket, https response error StatusCode: 403, RequestID: [0-9a-f-]{36}, api error AccessDenied: Access Denied  \[\]\}\]$`)
	if !want.MatchString(err.Error()) {
		t.Errorf("message %q, want the provider's shape %s", err, want)
	}
}

// The functions pin node groups and Auto Scaling groups to the launch
// template's version number, read from status.atProvider.
func TestALaunchTemplateIsVersionOne(t *testing.T) {
	got := newIdentity("ec2.aws.m.upbound.io", "LaunchTemplate", "lt", "ap-northeast-2", nil).computed
	if got["latestVersion"] != int64(1) || got["defaultVersion"] != int64(1) {
		t.Errorf("latestVersion, defaultVersion = %v, %v; a new launch template is version 1", got["latestVersion"], got["defaultVersion"])
	}
}
