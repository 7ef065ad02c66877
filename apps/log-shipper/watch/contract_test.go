package watch

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/unsilo/unsilo/apps/log-shipper/gen"
	"github.com/unsilo/unsilo/apps/log-shipper/lake"
	"github.com/unsilo/unsilo/contracts/awscalls"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// TestAWSContract records the SQS and S3 calls of `log-shipper watch`
// (receive, extend the visibility of a slow object, read it from the raw
// zone, commit it to the curated zone, delete the message) into
// contracts/log-shipper/watch.json, which unsilo verify holds the composed
// log-shipper role to. The names are the example prod lake's
// (compositions/datalake/examples/prod.yaml: lake unsilo-prod, whose
// ingest queue is unsilo-prod-ingest), so the recorded ARNs are the role's
// own. Setup calls go through unrecorded clients.
func TestAWSContract(t *testing.T) {
	const raw, curated = "unsilo-lake-raw-prod", "unsilo-lake-curated-prod"
	e := newEnv(t, 5)
	rec := awscalls.New()
	so, s3o := e.sqs.(*sqs.Client).Options(), e.s3.Options()
	so.APIOptions = append(so.APIOptions, rec.APIOption)
	s3o.APIOptions = append(s3o.APIOptions, rec.APIOption)
	sqsc, s3c := sqs.New(so), s3.New(s3o)
	for _, b := range []string{raw, curated} {
		if _, err := e.s3.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := gen.Write(zw, gen.Options{Type: schema.WAF, Lines: 50, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	key := "waf/dt=2026-01-02/hour=03/aws-waf-logs-1.gz"
	if _, err := e.s3.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(raw), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes())}); err != nil {
		t.Fatal(err)
	}
	e.queue.send(notificationIn(raw, "ObjectCreated:Put", key, int64(buf.Len())))
	w := &Watcher{SQS: sqsc, QueueURL: "https://sqs.ap-northeast-2.amazonaws.com/123456789012/unsilo-prod-ingest",
		// The object is held until the visibility has been extended once,
		// so the heartbeat's call is in the recording every run.
		S3:         blockingS3{S3API: s3c, until: e.queue.extended},
		Ingester:   &lake.Ingester{Store: &lake.S3Store{Client: s3c, Bucket: curated, Prefix: "logs", Staging: t.TempDir()}, Source: "auto"},
		UntilEmpty: true, Visibility: 40 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := w.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Objects != 1 || st.Records != 50 || st.Deleted != 1 {
		t.Fatalf("stats %+v: want the object's 50 records committed and its message deleted", st)
	}
	if err := awscalls.Golden("../../../contracts/log-shipper/watch.json", "go test ./apps/log-shipper/watch -run TestAWSContract", rec, os.Getenv("UPDATE_GOLDEN") != ""); err != nil {
		t.Error(err)
	}
}
