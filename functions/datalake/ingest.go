package datalake

import (
	cloudtrail "github.com/upbound/provider-aws/v2/apis/namespaced/cloudtrail/v1beta1"
	firehose "github.com/upbound/provider-aws/v2/apis/namespaced/firehose/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// Firehose partitions WAF logs the way log-shipper reads raw prefixes.
const (
	wafPrefix      = prefixWAF + "dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/"
	wafErrorPrefix = prefixWAFErrors + "!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"
)

// firehose composes the WAF log stream (WebPortal waf.firehoseArn) and the
// role it writes as. Both take the key's ARN without a selector, so they
// wait for the key to exist.
func (b *builder) firehose() {
	if b.keyARN == "" {
		b.out.Defer("firehose and its role", "the ARN of key")
		return
	}
	arn := "arn:aws:s3:::" + b.spec.bucket(zoneRaw)
	b.out.Add("firehose-role", &iam.Role{
		ObjectMeta: b.meta("firehose-role"),
		Spec: iam.RoleSpec{ForProvider: iam.RoleParameters{
			AssumeRolePolicy: compose.Ptr(doc(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole",
				"Principal": map[string]any{"Service": "firehose.amazonaws.com"},
				"Condition": map[string]any{"StringEquals": map[string]any{"sts:ExternalId": b.spec.AccountID}}})),
			InlinePolicy: []iam.InlinePolicyParameters{{Name: compose.Ptr("waf-logs-to-raw"), Policy: compose.Ptr(doc(
				map[string]any{"Sid": "Bucket", "Effect": "Allow", "Action": []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}, "Resource": arn},
				map[string]any{"Sid": "WritePrefixes", "Effect": "Allow", "Action": []string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"},
					"Resource": []string{arn + "/" + prefixWAF + "*", arn + "/" + prefixWAFErrors + "*"}},
				map[string]any{"Sid": "EncryptThroughS3", "Effect": "Allow", "Action": []string{"kms:GenerateDataKey", "kms:Decrypt"}, "Resource": b.keyARN,
					"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": "s3." + b.spec.Region + ".amazonaws.com"}}},
			))}},
			Tags: b.tag.Tags("firehose-role"),
		}},
	})
	b.out.Add("firehose", &firehose.DeliveryStream{
		ObjectMeta: b.meta("firehose"),
		Spec: firehose.DeliveryStreamSpec{ForProvider: firehose.DeliveryStreamParameters{
			Region: b.region(), Name: compose.Ptr(b.spec.firehoseName()), Destination: compose.Ptr("extended_s3"),
			ExtendedS3Configuration: &firehose.ExtendedS3ConfigurationParameters{
				BucketArnSelector: ref("raw-bucket"), RoleArnSelector: ref("firehose-role"),
				Prefix: compose.Ptr(wafPrefix), ErrorOutputPrefix: compose.Ptr(wafErrorPrefix),
				CompressionFormat: compose.Ptr("GZIP"),
				BufferingSize:     compose.Ptr(64.0), BufferingInterval: compose.Ptr(300.0),
				KMSKeyArn: compose.Ptr(b.keyARN),
			},
			ServerSideEncryption: &firehose.ServerSideEncryptionParameters{
				Enabled: compose.Ptr(true), KeyType: compose.Ptr("CUSTOMER_MANAGED_CMK"), KeyArn: compose.Ptr(b.keyARN),
			},
			Tags: b.tag.Tags("firehose"),
		}},
	})
}

// trail composes the account's CloudTrail trail into the raw bucket. AWS
// checks the bucket policy when the trail is created, so the trail waits
// until the raw bucket's policy is Ready.
//
// CloudTrail stores and reads back the key's ARN; the selector would give
// it the key id (kms Key's external name), which never matches and makes
// the provider update the trail on every poll. So the trail also waits for
// the key's ARN.
func (b *builder) trail() {
	if !compose.IsReady(b.req.Observed["raw-bucket-policy"]) || b.keyARN == "" {
		b.out.Defer("trail", "raw-bucket-policy to be Ready and the ARN of key")
		return
	}
	b.out.Add("trail", &cloudtrail.Trail{
		ObjectMeta: b.named("trail", b.spec.Name),
		Spec: cloudtrail.TrailSpec{ForProvider: cloudtrail.TrailParameters{
			Region: b.region(), S3BucketNameSelector: ref("raw-bucket"), S3KeyPrefix: compose.Ptr(prefixCloudTrail),
			KMSKeyID: compose.Ptr(b.keyARN), EnableLogging: compose.Ptr(true), EnableLogFileValidation: compose.Ptr(true),
			IsMultiRegionTrail: compose.Ptr(true), IncludeGlobalServiceEvents: compose.Ptr(true),
			Tags: b.tag.Tags("trail"),
		}},
	})
}
