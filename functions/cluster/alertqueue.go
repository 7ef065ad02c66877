package cluster

import (
	"encoding/json"

	s3 "github.com/upbound/provider-aws/v2/apis/namespaced/s3/v1beta1"
	sqs "github.com/upbound/provider-aws/v2/apis/namespaced/sqs/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// AlertBridge chooses where alert-bridge keeps its outbox: "bbolt" (the
// default: an embedded file on a volume, one replica) or "sqs" (an SQS
// FIFO queue composed here, so several replicas share it).
type AlertBridge struct {
	Outbox string `json:"outbox"`
}

// sqsMaxMessage is SQS's largest message (1 MiB; the queue attribute
// defaults to 256 KiB, so it is set). alert-bridge's --sqs-max-message
// matches it; bigger notifications go through the bodies bucket.
const sqsMaxMessage = 1048576

// bodiesExpireDays: a body in the bucket outlives its message (SQS keeps
// messages at most 14 days), then the lifecycle rule deletes it.
const bodiesExpireDays = 15

func (s *Spec) validateAlertBridge() error {
	switch s.AlertBridge.Outbox {
	case "", "bbolt", "sqs":
		return nil
	}
	return compose.Invalid("spec.alertBridge.outbox", s.AlertBridge.Outbox, `must be "bbolt" (one replica, embedded) or "sqs" (SQS FIFO, several replicas)`)
}

func (b *builder) alertQueueNames() (queue, dead, bucket string) {
	base := compose.ShortName(b.req.XR, "alert-bridge", 70)
	return base + ".fifo", base + "-dead.fifo", compose.ShortName(b.req.XR, "alert-bridge-bodies", 63)
}

// alertQueue composes alert-bridge's SQS outbox: the FIFO queue, its FIFO
// dead-letter queue and redrive policy, and the private, encrypted,
// expiring bucket for bodies over the message limit.
func (b *builder) alertQueue() {
	if b.spec.AlertBridge.Outbox != "sqs" {
		return
	}
	queue, dead, bucket := b.alertQueueNames()
	fifo := func(component, name string, visibility float64, redriveAllow *string) {
		b.out.Add(component, &sqs.Queue{
			ObjectMeta: b.meta(component),
			Spec: sqs.QueueSpec{ForProvider: sqs.QueueParameters{
				RedriveAllowPolicy:        redriveAllow,
				Region:                    b.regionPtr(),
				Name:                      compose.Ptr(name),
				FifoQueue:                 compose.Ptr(true),
				ContentBasedDeduplication: compose.Ptr(false), // alert-bridge sends the dedupe key
				DeduplicationScope:        compose.Ptr("queue"),
				FifoThroughputLimit:       compose.Ptr("perQueue"),
				MaxMessageSize:            compose.Ptr(float64(sqsMaxMessage)),
				MessageRetentionSeconds:   compose.Ptr(1209600.0), // 14 days, the most SQS keeps
				VisibilityTimeoutSeconds:  compose.Ptr(visibility),
				SqsManagedSseEnabled:      compose.Ptr(true),
				Tags:                      b.tag.Tags(component),
			}},
		})
	}
	// Visibility: longer than one attempt (30s) plus its bookkeeping; the
	// bridge sets it per receive too.
	fifo("alert-bridge-queue", queue, 120, nil)
	// The dead-letter queue takes messages from the outbox queue only.
	allow, _ := json.Marshal(map[string]any{"redrivePermission": "byQueue",
		"sourceQueueArns": []string{"arn:aws:sqs:" + b.region + ":" + b.spec.AccountID + ":" + queue}})
	fifo("alert-bridge-dead-queue", dead, 30, compose.Ptr(string(allow)))
	if arn := b.req.AtProvider("alert-bridge-dead-queue", "arn"); arn != "" {
		// A backstop: the bridge parks a message itself after --max-age;
		// one that fails this often (a poison message) is parked regardless.
		policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": 1000})
		b.out.Add("alert-bridge-redrive", &sqs.QueueRedrivePolicy{
			ObjectMeta: b.meta("alert-bridge-redrive"),
			Spec: sqs.QueueRedrivePolicySpec{ForProvider: sqs.QueueRedrivePolicyParameters{
				Region: b.regionPtr(), QueueURLSelector: ref("alert-bridge-queue"), RedrivePolicy: compose.Ptr(string(policy)),
			}},
		})
	} else {
		b.out.Defer("alert-bridge-redrive", "the ARN of alert-bridge-dead-queue")
	}
	b.alertBodiesBucket(bucket)
}

func (b *builder) alertBodiesBucket(name string) {
	region := b.regionPtr()
	m := b.meta("alert-bridge-bodies")
	m.Annotations = map[string]string{"crossplane.io/external-name": name}
	b.out.Add("alert-bridge-bodies", &s3.Bucket{
		ObjectMeta: m,
		Spec:       s3.BucketSpec{ForProvider: s3.BucketParameters{Region: region, Tags: b.tag.Tags("alert-bridge-bodies")}},
	})
	sel := ref("alert-bridge-bodies")
	b.out.Add("alert-bridge-bodies-public-access-block", &s3.BucketPublicAccessBlock{
		ObjectMeta: b.meta("alert-bridge-bodies-public-access-block"),
		Spec: s3.BucketPublicAccessBlockSpec{ForProvider: s3.BucketPublicAccessBlockParameters{
			Region: region, BucketSelector: sel,
			BlockPublicAcls: compose.Ptr(true), BlockPublicPolicy: compose.Ptr(true),
			IgnorePublicAcls: compose.Ptr(true), RestrictPublicBuckets: compose.Ptr(true),
		}},
	})
	b.out.Add("alert-bridge-bodies-encryption", &s3.BucketServerSideEncryptionConfiguration{
		ObjectMeta: b.meta("alert-bridge-bodies-encryption"),
		Spec: s3.BucketServerSideEncryptionConfigurationSpec{ForProvider: s3.BucketServerSideEncryptionConfigurationParameters{
			Region: region, BucketSelector: sel,
			Rule: []s3.BucketServerSideEncryptionConfigurationRuleParameters{{
				ApplyServerSideEncryptionByDefault: &s3.RuleApplyServerSideEncryptionByDefaultParameters{SseAlgorithm: compose.Ptr("AES256")},
				BucketKeyEnabled:                   compose.Ptr(true),
			}},
		}},
	})
	b.out.Add("alert-bridge-bodies-ownership", &s3.BucketOwnershipControls{
		ObjectMeta: b.meta("alert-bridge-bodies-ownership"),
		Spec: s3.BucketOwnershipControlsSpec{ForProvider: s3.BucketOwnershipControlsParameters{
			Region: region, BucketSelector: sel,
			Rule: &s3.BucketOwnershipControlsRuleParameters{ObjectOwnership: compose.Ptr("BucketOwnerEnforced")},
		}},
	})
	b.out.Add("alert-bridge-bodies-lifecycle", &s3.BucketLifecycleConfiguration{
		ObjectMeta: b.meta("alert-bridge-bodies-lifecycle"),
		Spec: s3.BucketLifecycleConfigurationSpec{ForProvider: s3.BucketLifecycleConfigurationParameters{
			Region: region, BucketSelector: sel,
			Rule: []s3.BucketLifecycleConfigurationRuleParameters{{
				ID:                             compose.Ptr("expire-bodies"),
				Status:                         compose.Ptr("Enabled"),
				Filter:                         []s3.RuleFilterParameters{{Prefix: compose.Ptr("")}},
				Expiration:                     []s3.RuleExpirationParameters{{Days: compose.Ptr(float64(bodiesExpireDays))}},
				AbortIncompleteMultipartUpload: []s3.AbortIncompleteMultipartUploadParameters{{DaysAfterInitiation: compose.Ptr(1.0)}},
			}},
		}},
	})
}

// alertBridgeStatements is alert-bridge's IAM policy: nothing with the
// embedded outbox; with SQS, the queue operations it makes on its two
// queues and object access under its own prefix of the bodies bucket.
func (b *builder) alertBridgeStatements() []statement {
	if b.spec.AlertBridge.Outbox != "sqs" {
		return nil
	}
	queue, dead, bucket := b.alertQueueNames()
	// The queues are this cluster's, in its account and region.
	arn := func(name string) string { return "arn:aws:sqs:" + b.region + ":" + b.spec.AccountID + ":" + name }
	return []statement{
		{Sid: "AlertOutbox", Effect: "Allow", Resource: []string{arn(queue)},
			Action: []string{"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}},
		{Sid: "AlertDeadLetters", Effect: "Allow", Resource: []string{arn(dead)},
			Action: []string{"sqs:SendMessage", "sqs:GetQueueAttributes"}},
		{Sid: "AlertLargeBodies", Effect: "Allow", Resource: []string{"arn:aws:s3:::" + bucket + "/alert-bridge/*"},
			Action: []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"}},
	}
}

// alertBridgeStatus tells the chart where the outbox is.
func (b *builder) alertBridgeStatus() {
	if b.spec.AlertBridge.Outbox != "sqs" {
		return
	}
	_, _, bucket := b.alertQueueNames()
	st := map[string]any{"outbox": "sqs", "largeBodyBucket": bucket, "maxMessageBytes": int64(sqsMaxMessage)}
	if u := b.req.AtProvider("alert-bridge-queue", "url"); u != "" {
		st["queueUrl"] = u
	}
	if u := b.req.AtProvider("alert-bridge-dead-queue", "url"); u != "" {
		st["deadQueueUrl"] = u
	}
	b.out.Status["alertBridge"] = st
}
