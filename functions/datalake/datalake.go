package datalake

import (
	"context"
	"encoding/json"

	athena "github.com/upbound/provider-aws/v2/apis/namespaced/athena/v1beta1"
	cloudtrail "github.com/upbound/provider-aws/v2/apis/namespaced/cloudtrail/v1beta1"
	firehose "github.com/upbound/provider-aws/v2/apis/namespaced/firehose/v1beta1"
	glue "github.com/upbound/provider-aws/v2/apis/namespaced/glue/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"
	kms "github.com/upbound/provider-aws/v2/apis/namespaced/kms/v1beta1"
	s3 "github.com/upbound/provider-aws/v2/apis/namespaced/s3/v1beta1"
	sqs "github.com/upbound/provider-aws/v2/apis/namespaced/sqs/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/controlplane"
)

// API composes DataLake XRs.
type API struct{}

// Kind implements compose.API.
func (API) Kind() string { return "DataLake" }

// AddToScheme implements compose.API.
func (API) AddToScheme(s *runtime.Scheme) error {
	return compose.AddToScheme(s, s3.AddToScheme, kms.AddToScheme, iam.AddToScheme, firehose.AddToScheme,
		cloudtrail.AddToScheme, glue.AddToScheme, athena.AddToScheme, sqs.AddToScheme)
}

var ref = compose.Sibling

// Zones of the lake. raw holds what AWS services deliver (VPC Flow Logs,
// CloudFront v2, CloudTrail, WAF through Firehose); curated holds
// log-shipper's Parquet and Athena's results; alb holds ALB access logs,
// apart because ELB delivers only to SSE-S3 buckets.
const (
	zoneRaw     = "raw"
	zoneCurated = "curated"
	zoneALB     = "alb"
)

// curatedRoot is where log-shipper writes (its --out), under which each
// table is source=<name>/dt=.../hour=.../.
const curatedRoot = "logs"

type builder struct {
	req  *compose.Request
	spec *Spec
	tag  *compose.Tagger
	out  *compose.Result
	cp   controlplane.ControlPlane
	// keyARN is the lake key's ARN once AWS has created it; resources that
	// take a key ARN without a selector wait for it.
	keyARN string
}

// Compose implements compose.API.
func (API) Compose(_ context.Context, req *compose.Request) (*compose.Result, error) {
	spec, err := readSpec(req.XR)
	if err != nil {
		return nil, err
	}
	out := compose.NewResult()
	cp, ok, err := controlplane.Resolve(out, req, spec.ControlPlaneRef)
	if err != nil || !ok {
		return out, err // not fetched yet: Crossplane calls again with the Cluster
	}
	if cp.AccountID != spec.AccountID {
		return nil, compose.Invalid("spec.accountId", spec.AccountID, "the control plane (spec.controlPlaneRef) creates the lake in its account %s", cp.AccountID)
	}
	b := &builder{req: req, spec: spec, cp: cp, tag: compose.NewTagger(req.XR), out: out, keyARN: req.AtProvider("key", "arn")}
	b.key()
	b.buckets()
	b.firehose()
	b.trail()
	b.catalog()
	if err := b.athena(); err != nil {
		return nil, err
	}
	if err := b.ingestQueue(); err != nil {
		return nil, err
	}
	b.usages()
	b.cp.Apply(b.out)
	b.status()
	return b.out, nil
}

// usages keep the lake key until every bucket encrypted with it is gone.
// A bucket that still holds objects cannot be deleted (S3 refuses), so
// deleting the DataLake leaves the key and its data readable instead of
// scheduling the key's deletion under buckets that stay: 30 days later
// every object in them would be unreadable.
func (b *builder) usages() {
	for _, z := range []string{zoneRaw, zoneCurated} {
		b.out.Use(b.req, compose.Dependency{
			Of: "key", OfKind: kms.Key_GroupVersionKind, By: z + "-bucket", ByKind: s3.Bucket_GroupVersionKind,
			Reason: "the bucket's objects are encrypted with this key",
		})
	}
	if _, ok := b.out.Resources["trail"]; ok {
		b.out.Use(b.req, compose.Dependency{
			Of: "key", OfKind: kms.Key_GroupVersionKind, By: "trail", ByKind: cloudtrail.Trail_GroupVersionKind,
			Reason: "CloudTrail encrypts its log files with this key",
		})
	}
}

func (b *builder) region() *string { return compose.Ptr(b.spec.Region) }

func (b *builder) meta(name string) metav1.ObjectMeta { return compose.Meta(b.req.XR, name, nil) }

// named is meta with the AWS name set explicitly (crossplane.io/external-name),
// for resources whose name others refer to.
func (b *builder) named(name, external string) metav1.ObjectMeta {
	m := b.meta(name)
	m.Annotations = map[string]string{"crossplane.io/external-name": external}
	return m
}

func doc(statements ...map[string]any) string {
	j, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements}) // maps of strings always marshal
	return string(j)
}

func trust(service string) string {
	return doc(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"Service": service}})
}

func (b *builder) trailARN() string {
	return "arn:aws:cloudtrail:" + b.spec.Region + ":" + b.spec.AccountID + ":trail/" + b.spec.Name
}

// key is the lake's KMS key. Its policy lets the account's IAM policies
// grant use (Firehose, Glue and Athena users get it that way), and lets the
// services that deliver to the raw bucket encrypt with it: CloudTrail for
// this trail only, and the CloudWatch vended-log delivery (VPC Flow Logs,
// CloudFront standard logs v2) for this account only.
func (b *builder) key() {
	acct := b.spec.AccountID
	policy := doc(
		map[string]any{"Sid": "AccountAdministers", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + acct + ":root"}, "Action": "kms:*", "Resource": "*"},
		map[string]any{"Sid": "CloudTrailEncryptsLogs", "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
			"Action": "kms:GenerateDataKey*", "Resource": "*",
			"Condition": map[string]any{
				"StringEquals": map[string]any{"aws:SourceArn": b.trailARN()},
				"StringLike":   map[string]any{"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:" + acct + ":trail/*"},
			}},
		// DescribeKey carries no encryption context: its own statement.
		map[string]any{"Sid": "CloudTrailDescribesKey", "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
			"Action": "kms:DescribeKey", "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceArn": b.trailARN()}}},
		map[string]any{"Sid": "LogDeliveryEncrypts", "Effect": "Allow", "Principal": map[string]any{"Service": "delivery.logs.amazonaws.com"},
			"Action": []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}, "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": acct}}},
		b.queueKeyStatement(),
	)
	b.out.Add("key", &kms.Key{
		ObjectMeta: b.meta("key"),
		Spec: kms.KeySpec{ForProvider: kms.KeyParameters{
			Region: b.region(), Description: compose.Ptr("Data lake " + b.spec.Name + ": buckets, Firehose, CloudTrail, Athena results"),
			EnableKeyRotation: compose.Ptr(true), DeletionWindowInDays: compose.Ptr(30.0),
			Policy: compose.Ptr(policy), Tags: b.tag.Tags("key"),
		}},
	})
}

func (b *builder) status() {
	st := b.out.Status
	if v := b.req.AtProvider("raw-bucket", "id"); v != "" {
		st["rawBucket"] = v
	}
	if v := b.req.AtProvider("curated-bucket", "id"); v != "" {
		st["curatedBucket"] = v
	}
	if v := b.req.AtProvider("firehose", "arn"); v != "" {
		st["firehoseArn"] = v
	}
	if b.req.AtProvider("database", "id") != "" {
		// The id is CATALOG:NAME; the name is what queries use.
		st["databaseName"] = b.spec.database()
	}
	if v := b.req.AtProvider("workgroup", "id"); v != "" {
		st["workgroup"] = v
	}
	if v := b.req.AtProvider("ingest-queue", "url"); v != "" {
		st["ingestQueueUrl"] = v // log-shipper watch --queue
	}
	if v := b.req.AtProvider("ingest-dlq", "arn"); v != "" {
		st["ingestDeadLetterQueueArn"] = v
	}
}
