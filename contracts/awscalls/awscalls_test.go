package awscalls

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/aws/smithy-go/middleware"
)

// TestRecordsFromTheSDK: a real S3 client against a fake S3 records each
// operation with its IAM action and ARN.
func TestRecordsFromTheSDK(t *testing.T) {
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer srv.Close()
	rec := New()
	c := s3.New(s3.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), APIOptions: []func(*middleware.Stack) error{rec.APIOption}})
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("a/b"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake")}); err != nil {
		t.Fatal(err)
	}
	want := []Call{
		{Operation: "S3.CreateBucket", Action: "s3:CreateBucket", Resource: "arn:aws:s3:::lake"},
		{Operation: "S3.ListObjectsV2", Action: "s3:ListBucket", Resource: "arn:aws:s3:::lake"},
		{Operation: "S3.PutObject", Action: "s3:PutObject", Resource: "arn:aws:s3:::lake/a/b"},
	}
	got := rec.Calls()
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	path := filepath.Join(t.TempDir(), "c.json")
	if err := Golden(path, "test", rec, true); err != nil {
		t.Fatal(err)
	}
	if err := Golden(path, "test", rec, false); err != nil {
		t.Errorf("a fresh contract is stale: %v", err)
	}
	rec.record(Call{Operation: "S3.DeleteObject", Action: "s3:DeleteObject", Resource: "*"})
	if err := Golden(path, "test", rec, false); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Errorf("a new call must make the contract stale, got %v", err)
	}
	if err := Golden(path, "test", New(), false); err == nil {
		t.Error("an empty recording must fail")
	}
}

func TestOf(t *testing.T) {
	cases := map[string]struct {
		reason                   string
		service, op, region      string
		input                    any
		wantAction, wantResource string
	}{
		"Converse":    {"Converse needs InvokeModel on the model", "Bedrock Runtime", "ConverseStream", "ap-northeast-1", &bedrockruntime.ConverseStreamInput{ModelId: aws.String("anthropic.claude-3-haiku-20240307-v1:0")}, "bedrock:InvokeModelWithResponseStream", "arn:aws:bedrock:ap-northeast-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"},
		"Profile":     {"an inference profile ARN is kept", "Bedrock Runtime", "Converse", "ap-northeast-1", &bedrockruntime.ConverseInput{ModelId: aws.String("arn:aws:bedrock:ap-northeast-1:1:inference-profile/apac.x")}, "bedrock:InvokeModel", "arn:aws:bedrock:ap-northeast-1:1:inference-profile/apac.x"},
		"HeadObject":  {"HeadObject is authorised as GetObject", "S3", "HeadObject", "r", &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}, "s3:GetObject", "arn:aws:s3:::b/k"},
		"SQS":         {"a queue URL names the queue, the account is the role's", "SQS", "ReceiveMessage", "ap-northeast-2", &sqs.ReceiveMessageInput{QueueUrl: aws.String("https://sqs.ap-northeast-2.amazonaws.com/123456789012/q.fifo")}, "sqs:ReceiveMessage", "arn:aws:sqs:ap-northeast-2:ACCOUNT:q.fifo"},
		"SQSBatch":    {"a batch is authorised as its single-message action", "SQS", "DeleteMessageBatch", "ap-northeast-2", &sqs.DeleteMessageBatchInput{QueueUrl: aws.String("https://sqs.ap-northeast-2.amazonaws.com/123456789012/q")}, "sqs:DeleteMessage", "arn:aws:sqs:ap-northeast-2:ACCOUNT:q"},
		"SQSVisBatch": {"a visibility batch is ChangeMessageVisibility", "SQS", "ChangeMessageVisibilityBatch", "ap-northeast-2", &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String("https://sqs.ap-northeast-2.amazonaws.com/123456789012/q")}, "sqs:ChangeMessageVisibility", "arn:aws:sqs:ap-northeast-2:ACCOUNT:q"},
		"NoInput":     {"an input naming nothing is *", "Athena", "GetQueryExecution", "r", struct{}{}, "athena:GetQueryExecution", "*"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := Of(tc.service, tc.op, tc.region, tc.input)
			if c.Action != tc.wantAction || c.Resource != tc.wantResource {
				t.Errorf("%s: got %s on %s, want %s on %s", tc.reason, c.Action, c.Resource, tc.wantAction, tc.wantResource)
			}
		})
	}
}
