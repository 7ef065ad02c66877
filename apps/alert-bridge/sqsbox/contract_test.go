package sqsbox

import (
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
	"github.com/unsilo/unsilo/contracts/awscalls"
)

var bodyKey = regexp.MustCompile(`/alert-bridge/[0-9a-f]+/[^/]+\.json\.gz$`)

// TestAWSContract records the SQS and S3 calls of the SQS outbox (open,
// enqueue a small and a large notification, deliver, retry, bury) into
// contracts/alert-bridge/sqs.json, which unsilo verify holds the composed
// alert-bridge role to.
func TestAWSContract(t *testing.T) {
	e := newEnv(t)
	// The prod Cluster's bucket, so the recorded ARNs are the role's own
	// (the queues are the configured ones: --sqs-queue-url).
	const bucket = "platform-tools-alert-bridge-bodies"
	ctx := context.Background()
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	rec := awscalls.New()
	so, s3o := e.sqs.Options(), e.s3.Options()
	so.APIOptions = append(so.APIOptions, rec.APIOption)
	s3o.APIOptions = append(s3o.APIOptions, rec.APIOption)
	e.sqs, e.s3 = sqs.New(so), s3.New(s3o)
	q, err := Open(ctx, Config{SQS: e.sqs, QueueURL: e.main, DeadQueueURL: e.dlq, S3: e.s3, Bucket: bucket,
		WaitTime: time.Second, Visibility: 30 * time.Second, MaxMessage: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	for _, s := range []loadgen.Spec{{Group: "small"}, {Group: "big", Alerts: 4000}, {Group: "dead"}} {
		if _, err := q.Enqueue(ctx, notif(t, s)); err != nil {
			t.Fatal(err)
		}
	}
	// Three notifications end delivered, delivered and buried; the first
	// lease is retried once on the way (a visibility change).
	retried, final := false, 0
	for round := 0; final < 3; round++ {
		if round > 20 {
			t.Fatalf("only %d of 3 notifications settled", final)
		}
		for _, l := range due(t, q, 3) {
			switch {
			case !retried:
				retried, err = true, l.Retry(ctx, time.Now(), "contract")
			case final == 2:
				final, err = final+1, l.Bury(ctx, "contract")
			default:
				final, err = final+1, l.Delivered(ctx)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// A large body's key holds its group and its 5-minute dedupe window.
	stable := rec.Map(func(c awscalls.Call) awscalls.Call {
		c.Resource = bodyKey.ReplaceAllString(c.Resource, "/alert-bridge/GROUP/KEY.json.gz")
		return c
	})
	if err := awscalls.Golden("../../../contracts/alert-bridge/sqs.json", "go test ./apps/alert-bridge/sqsbox -run TestAWSContract", stable, os.Getenv("UPDATE_GOLDEN") != ""); err != nil {
		t.Error(err)
	}
}
