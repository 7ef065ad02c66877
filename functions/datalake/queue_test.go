package datalake

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	kms "github.com/upbound/provider-aws/v2/apis/namespaced/kms/v1beta1"
	s3 "github.com/upbound/provider-aws/v2/apis/namespaced/s3/v1beta1"
	sqs "github.com/upbound/provider-aws/v2/apis/namespaced/sqs/v1beta1"
)

type policyDoc struct {
	Statement []struct {
		Sid       string
		Effect    string
		Principal any
		Action    any
		Resource  any
		Condition map[string]map[string]any
	}
}

func decode(t *testing.T, s *string) policyDoc {
	t.Helper()
	var d policyDoc
	if s == nil || json.Unmarshal([]byte(*s), &d) != nil {
		t.Fatalf("not a policy: %v", s)
	}
	return d
}

func TestIngestQueue(t *testing.T) {
	if _, ok := compose1(t, base(), nil).Resources["ingest-queue"]; ok {
		t.Error("queue composed before the key's ARN is known")
	}
	res := compose1(t, base(), map[string]map[string]any{"key": {"arn": keyARN}})
	q, ok := res.Resources["ingest-queue"].(*sqs.Queue)
	dlq, ok2 := res.Resources["ingest-dlq"].(*sqs.Queue)
	if !ok || !ok2 {
		t.Fatal("queue and dead-letter queue are composed once the key exists")
	}
	if q.Annotations["crossplane.io/external-name"] != "unsilo-dev-ingest" || dlq.Annotations["crossplane.io/external-name"] != "unsilo-dev-ingest-dlq" {
		t.Errorf("queue names %v %v", q.Annotations, dlq.Annotations)
	}
	var redrive struct {
		DeadLetterTargetArn string
		MaxReceiveCount     int
	}
	json.Unmarshal([]byte(*q.Spec.ForProvider.RedrivePolicy), &redrive)
	if redrive.DeadLetterTargetArn != "arn:aws:sqs:ap-northeast-2:123456789012:unsilo-dev-ingest-dlq" || redrive.MaxReceiveCount != maxReceiveCount {
		t.Errorf("redrive %+v", redrive)
	}
	if *dlq.Spec.ForProvider.MessageRetentionSeconds <= *q.Spec.ForProvider.MessageRetentionSeconds {
		t.Error("the DLQ must keep messages longer than the queue (their enqueue time carries over)")
	}
	if !strings.Contains(*dlq.Spec.ForProvider.RedriveAllowPolicy, `"sourceQueueArns":["arn:aws:sqs:ap-northeast-2:123456789012:unsilo-dev-ingest"]`) {
		t.Errorf("redrive allow %s", *dlq.Spec.ForProvider.RedriveAllowPolicy)
	}
	for _, x := range []*sqs.Queue{q, dlq} {
		if x.Spec.ForProvider.KMSMasterKeyID == nil || *x.Spec.ForProvider.KMSMasterKeyID != keyARN {
			t.Errorf("%s: not encrypted with the lake key", x.Name)
		}
	}
	qp := res.Resources["ingest-queue-policy"].(*sqs.QueuePolicy)
	var allow bool
	for _, st := range decode(t, qp.Spec.ForProvider.Policy).Statement {
		if st.Effect == "Allow" {
			allow = true
			src, _ := st.Condition["ArnLike"]["aws:SourceArn"].([]any)
			if st.Action != "sqs:SendMessage" || st.Condition["StringEquals"]["aws:SourceAccount"] != acct || len(src) != 2 ||
				!strings.Contains(st.Principal.(map[string]any)["Service"].(string), "s3.amazonaws.com") {
				t.Errorf("queue policy grants too much or too little: %+v", st)
			}
		}
	}
	if !allow {
		t.Error("queue policy does not admit S3")
	}
	// Notifications wait for the queue policy: S3 tests the destination.
	if _, ok := res.Resources["raw-bucket-notification"]; ok {
		t.Error("bucket notification composed before the queue policy is Ready")
	}
	// The key admits S3 for the lake's buckets only.
	key := res.Resources["key"].(*kms.Key)
	found := false
	for _, st := range decode(t, key.Spec.ForProvider.Policy).Statement {
		if st.Sid == "S3EncryptsNotifications" {
			found = true
			if st.Condition["StringEquals"]["aws:SourceAccount"] != acct {
				t.Errorf("key statement %+v", st)
			}
		}
	}
	if !found {
		t.Error("the lake key does not let S3 encrypt notifications to the SSE-KMS queue")
	}
}

func TestBucketNotifications(t *testing.T) {
	res := compose1(t, base(), map[string]map[string]any{"key": {"arn": keyARN}, "ingest-queue-policy": {ready: true}})
	want := map[string][]string{
		"raw-bucket-notification": {"cloudfront/", "cloudtrail/", "vpcflow/", "waf/"},
		"alb-bucket-notification": {"alb/"},
	}
	for name, prefixes := range want {
		n, ok := res.Resources[resource.Name(name)].(*s3.BucketNotification)
		if !ok {
			t.Fatalf("no %s", name)
		}
		var got []string
		for _, q := range n.Spec.ForProvider.Queue {
			got = append(got, *q.FilterPrefix)
			if *q.QueueArn != "arn:aws:sqs:ap-northeast-2:123456789012:unsilo-dev-ingest" || *q.Events[0] != "s3:ObjectCreated:*" {
				t.Errorf("%s: %s %v", name, *q.QueueArn, *q.Events[0])
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, prefixes) {
			t.Errorf("%s prefixes %v, want %v (never waf-errors/, athena-results/ or the curated bucket)", name, got, prefixes)
		}
	}
	if _, ok := res.Resources["curated-bucket-notification"]; ok {
		t.Error("the curated bucket must not notify: log-shipper writes there")
	}
}
