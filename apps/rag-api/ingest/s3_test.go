package ingest

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// TestIngestS3 runs against gofakes3, an in-process S3-compatible server.
func TestIngestS3(t *testing.T) {
	ts := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer ts.Close()
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("docs")}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, b []byte) {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("docs"), Key: aws.String(key), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	put(".acl", []byte("staff, hr, it\n")) // above the ingested prefix: still applies
	put("kb/hr/leave.md", []byte("# 휴가\n\n연차는 15일이다.\n"))
	put("kb/hr/leave.md.acl", []byte("hr, staff\n"))
	put("kb/it/manual.pdf", makePDF(t, "Manual", []string{"one", "two"}))
	put("kb/it/bomb.docx", zipBombDOCX(t))
	put("other/ignored.md", []byte("# x\n\ny"))

	in, ix := newIngester(t)
	rep, err := in.S3(ctx, client, "docs", "kb/")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 2 || len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Reason, "exceeds limit") {
		t.Fatalf("added %d, skipped %+v", rep.Added, rep.Skipped)
	}
	got := allChunks(t, ix)
	if md := got["leave.md"]; len(md) != 1 || md[0].Source != "s3://docs/kb/hr/leave.md" || strings.Join(md[0].Groups, ",") != "hr,staff" {
		t.Fatalf("%+v", *got["leave.md"][0])
	}
	if pdf := got["manual.pdf"]; len(pdf) != 2 || pdf[1].Page != 2 || strings.Join(pdf[0].Groups, ",") != "hr,it,staff" {
		t.Fatalf("%+v", pdf)
	}
	rep, err = in.S3(ctx, client, "docs", "kb/")
	if err != nil || rep.Unchanged != 3 || rep.Added+rep.Updated != 0 || !rep.Skipped[0].Remembered {
		t.Fatalf("re-run %+v %v", rep, err)
	}
	put("kb/hr/leave.md.acl", []byte("hr,managers\n"))
	if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("docs"), Key: aws.String("kb/it/manual.pdf")}); err != nil {
		t.Fatal(err)
	}
	rep, err = in.S3(ctx, client, "docs", "kb/")
	if err != nil || rep.Updated != 1 || rep.Removed != 1 {
		t.Fatalf("incremental %+v %v", rep, err)
	}
	if md := allChunks(t, ix)["leave.md"]; len(md) != 1 || strings.Join(md[0].Groups, ",") != "hr" {
		t.Fatalf("narrowed sidecar: %+v", md)
	}
	// An emptied prefix removes nothing unless allowed.
	for _, k := range []string{"kb/hr/leave.md", "kb/hr/leave.md.acl", "kb/it/bomb.docx"} {
		if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("docs"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := in.S3(ctx, client, "docs", "kb/"); err == nil || !strings.Contains(err.Error(), "--allow-empty") {
		t.Fatalf("empty prefix: %v", err)
	}
	if ix.Len() != 1 {
		t.Fatalf("empty prefix removed chunks: %d left", ix.Len())
	}
}
