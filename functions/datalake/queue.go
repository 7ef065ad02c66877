package datalake

import (
	"encoding/json"
	"fmt"

	s3 "github.com/upbound/provider-aws/v2/apis/namespaced/s3/v1beta1"
	sqs "github.com/upbound/provider-aws/v2/apis/namespaced/sqs/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// The ingest queue carries the raw zones' S3 event notifications to
// log-shipper watch. A message that fails maxReceiveCount times moves to
// the dead-letter queue, which keeps it longer than the queue would: a
// standard queue's message keeps its original enqueue time in the DLQ.
const (
	maxReceiveCount      = 5
	queueRetentionSecs   = 4 * 24 * 3600  // SQS default, said explicitly
	dlqRetentionSecs     = 14 * 24 * 3600 // SQS maximum
	queueVisibilitySecs  = 300            // watch's default --visibility
	queueReceiveWaitSecs = 20             // long polling
)

// notified are the raw prefixes whose new objects are ingested, per zone.
// waf-errors/ (Firehose's failed records) and athena-results/ are not logs;
// the curated bucket is log-shipper's own output and must never notify.
var notified = map[string][]string{
	zoneRaw: {prefixVPCFlow, prefixCloudFront, prefixCloudTrail + "/", prefixWAF},
	zoneALB: {prefixALB + "/"},
}

func (s *Spec) queueName() string { return s.Name + "-ingest" }
func (s *Spec) dlqName() string   { return s.Name + "-ingest-dlq" }

// Queue ARNs follow from their names (set as external names), so the
// redrive policy, the queue policy and the notifications need not wait for
// AWS to report them.
func (s *Spec) queueARN(name string) string {
	return "arn:aws:sqs:" + s.Region + ":" + s.AccountID + ":" + name
}

// notifyingBuckets are the ARNs of the buckets that send to the queue.
func (b *builder) notifyingBuckets() []string {
	return []string{"arn:aws:s3:::" + b.spec.bucket(zoneRaw), "arn:aws:s3:::" + b.spec.bucket(zoneALB)}
}

// queueKeyStatement lets S3 encrypt the notifications it sends to the
// SSE-KMS queue (S3 user guide, "Configuring notifications for an encrypted
// destination": the AWS managed aws/sqs key cannot be used, a customer
// managed key's policy must allow s3.amazonaws.com GenerateDataKey and
// Decrypt), only for the lake's own buckets.
func (b *builder) queueKeyStatement() map[string]any {
	return map[string]any{"Sid": "S3EncryptsNotifications", "Effect": "Allow", "Principal": map[string]any{"Service": "s3.amazonaws.com"},
		"Action": []string{"kms:GenerateDataKey", "kms:Decrypt"}, "Resource": "*",
		"Condition": map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": b.spec.AccountID},
			"ArnLike":      map[string]any{"aws:SourceArn": b.notifyingBuckets()},
		}}
}

// ingestQueue composes the queue, its dead-letter queue and the queue
// policy once the lake key exists (a queue takes its key as an ARN, without
// a selector), then, once that policy is Ready (S3 sends a test message when
// a notification is configured and refuses a destination it cannot write
// to), the bucket notifications.
func (b *builder) ingestQueue() error {
	if b.keyARN == "" {
		b.out.Defer("ingest queues and bucket notifications", "the ARN of key")
		return nil
	}
	region, queueARN, dlqARN := b.region(), b.spec.queueARN(b.spec.queueName()), b.spec.queueARN(b.spec.dlqName())
	redrive, err := json.Marshal(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": maxReceiveCount})
	if err != nil {
		return fmt.Errorf("cannot encode the redrive policy: %w", err)
	}
	allow, err := json.Marshal(map[string]any{"redrivePermission": "byQueue", "sourceQueueArns": []string{queueARN}})
	if err != nil {
		return fmt.Errorf("cannot encode the redrive allow policy: %w", err)
	}
	b.out.Add("ingest-dlq", &sqs.Queue{
		ObjectMeta: b.named("ingest-dlq", b.spec.dlqName()),
		Spec: sqs.QueueSpec{ForProvider: sqs.QueueParameters{
			Region: region, MessageRetentionSeconds: compose.Ptr(float64(dlqRetentionSecs)),
			KMSMasterKeyID: compose.Ptr(b.keyARN), KMSDataKeyReusePeriodSeconds: compose.Ptr(300.0),
			RedriveAllowPolicy: compose.Ptr(string(allow)), Tags: b.tag.Tags("ingest-dlq"),
		}},
	})
	b.out.Add("ingest-queue", &sqs.Queue{
		ObjectMeta: b.named("ingest-queue", b.spec.queueName()),
		Spec: sqs.QueueSpec{ForProvider: sqs.QueueParameters{
			Region: region, MessageRetentionSeconds: compose.Ptr(float64(queueRetentionSecs)),
			VisibilityTimeoutSeconds: compose.Ptr(float64(queueVisibilitySecs)), ReceiveWaitTimeSeconds: compose.Ptr(float64(queueReceiveWaitSecs)),
			KMSMasterKeyID: compose.Ptr(b.keyARN), KMSDataKeyReusePeriodSeconds: compose.Ptr(300.0),
			RedrivePolicy: compose.Ptr(string(redrive)), Tags: b.tag.Tags("ingest-queue"),
		}},
	})
	b.out.Add("ingest-queue-policy", &sqs.QueuePolicy{
		ObjectMeta: b.meta("ingest-queue-policy"),
		Spec: sqs.QueuePolicySpec{ForProvider: sqs.QueuePolicyParameters{
			Region: region, QueueURLSelector: ref("ingest-queue"),
			Policy: compose.Ptr(doc(
				map[string]any{"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": queueARN,
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}},
				map[string]any{"Sid": "LakeBucketsSendEvents", "Effect": "Allow", "Principal": map[string]any{"Service": "s3.amazonaws.com"},
					"Action": "sqs:SendMessage", "Resource": queueARN,
					"Condition": map[string]any{
						"StringEquals": map[string]any{"aws:SourceAccount": b.spec.AccountID},
						"ArnLike":      map[string]any{"aws:SourceArn": b.notifyingBuckets()},
					}},
			)),
		}},
	})
	if !compose.IsReady(b.req.Observed["ingest-queue-policy"]) {
		b.out.Defer("bucket notifications", "ingest-queue-policy to be Ready")
		return nil
	}
	for _, zone := range []string{zoneRaw, zoneALB} {
		var qs []s3.QueueParameters
		for i, prefix := range notified[zone] {
			qs = append(qs, s3.QueueParameters{ID: compose.Ptr(fmt.Sprintf("ingest-%d", i)), QueueArn: compose.Ptr(queueARN),
				Events: []*string{compose.Ptr("s3:ObjectCreated:*")}, FilterPrefix: compose.Ptr(prefix)})
		}
		name := zone + "-bucket-notification"
		b.out.Add(name, &s3.BucketNotification{
			ObjectMeta: b.meta(name),
			Spec: s3.BucketNotificationSpec{ForProvider: s3.BucketNotificationParameters{
				Region: region, BucketSelector: ref(zone + "-bucket"), Queue: qs,
			}},
		})
	}
	return nil
}
