package lake

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/unsilo/unsilo/apps/log-shipper/gen"
	"github.com/unsilo/unsilo/contracts/awscalls"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// TestAWSContract records the S3 calls of `log-shipper ingest` from the
// raw zone to the curated zone (list, read, write Parquet) into
// contracts/log-shipper/lake.json, which unsilo verify holds the composed
// log-shipper role to. Setup calls go through an unrecorded client.
func TestAWSContract(t *testing.T) {
	ctx := context.Background()
	ts := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer ts.Close()
	rec := awscalls.New()
	opts := s3.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(ts.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}
	setup := s3.New(opts)
	opts.APIOptions = []func(*middleware.Stack) error{rec.APIOption}
	client := s3.New(opts)
	for _, b := range []string{"unsilo-lake-raw-prod", "unsilo-lake-curated-prod"} {
		if _, err := setup.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	gen.Write(zw, gen.Options{Type: schema.WAF, Lines: 50, Seed: 3})
	zw.Close()
	key := "waf/dt=2026-01-02/hour=03/aws-waf-logs-1.gz"
	if _, err := setup.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("unsilo-lake-raw-prod"), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes())}); err != nil {
		t.Fatal(err)
	}
	inputs, err := S3Inputs(ctx, client, "unsilo-lake-raw-prod", "waf/")
	if err != nil || len(inputs) != 1 {
		t.Fatalf("%v %d", err, len(inputs))
	}
	store := &S3Store{Client: client, Bucket: "unsilo-lake-curated-prod", Prefix: "logs", Staging: t.TempDir()}
	if _, err := (&Ingester{Store: store, Source: "auto"}).Run(ctx, inputs); err != nil {
		t.Fatal(err)
	}
	if err := awscalls.Golden("../../../contracts/log-shipper/lake.json", "go test ./apps/log-shipper/lake -run TestAWSContract", rec, os.Getenv("UPDATE_GOLDEN") != ""); err != nil {
		t.Error(err)
	}
}
