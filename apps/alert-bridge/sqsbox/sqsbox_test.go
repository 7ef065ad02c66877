package sqsbox

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/unsilo/unsilo/apps/alert-bridge/internal/sqsfake"
	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

type env struct {
	fake      *sqsfake.Server
	sqs       *sqs.Client
	s3        *s3.Client
	main, dlq string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	fake := sqsfake.New()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	s3srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(s3srv.Close)
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")
	e := &env{fake: fake,
		sqs: sqs.New(sqs.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(srv.URL), Credentials: creds}),
		s3:  s3.New(s3.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(s3srv.URL), UsePathStyle: true, Credentials: creds}),
	}
	e.main, e.dlq = fake.Queue(srv.URL, "alert-bridge.fifo"), fake.Queue(srv.URL, "alert-bridge-dead.fifo")
	if _, err := e.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("bodies")}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) open(t *testing.T) *Queue {
	t.Helper()
	return e.openMax(t, 0)
}

func (e *env) openMax(t *testing.T, maxMessage int) *Queue {
	t.Helper()
	q, err := Open(context.Background(), Config{SQS: e.sqs, QueueURL: e.main, DeadQueueURL: e.dlq, S3: e.s3, Bucket: "bodies",
		WaitTime: time.Second, Visibility: 30 * time.Second, MaxMessage: maxMessage})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func notif(t *testing.T, s loadgen.Spec) *payload.Notification {
	t.Helper()
	n, err := payload.DecodeAlertmanager(loadgen.Body(s))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func due(t *testing.T, q *Queue, n int) []outbox.Lease {
	t.Helper()
	l, _, err := q.Due(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Two replicas get the HA pair's copies of one notification: SQS stores
// it once, and whichever replica delivers it uses the same key.
func TestReplicasStoreOneCopy(t *testing.T) {
	e := newEnv(t)
	a, b := e.open(t), e.open(t)
	ctx := context.Background()
	ra, err := a.Enqueue(ctx, notif(t, loadgen.Spec{Group: "g"}))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.Enqueue(ctx, notif(t, loadgen.Spec{Group: "g"}))
	if err != nil {
		t.Fatal(err)
	}
	if ra.ID != rb.ID || e.fake.Count(e.main) != 1 {
		t.Fatalf("ids %s %s, %d messages: want one message under one key", ra.ID, rb.ID, e.fake.Count(e.main))
	}
	l := due(t, b, 10)
	if len(l) != 1 || l[0].Message().ID != ra.ID {
		t.Fatalf("leases %v", l)
	}
	if err := l[0].Delivered(ctx); err != nil || e.fake.Count(e.main) != 0 {
		t.Fatalf("delivered: %v, %d left", err, e.fake.Count(e.main))
	}
}

// A group's states come out one at a time and in order, even when SQS
// returns several of them in one receive; a retry holds back the group.
func TestGroupOrderAndBackoff(t *testing.T) {
	e := newEnv(t)
	q := e.open(t)
	ctx := context.Background()
	for _, st := range []string{"firing", "resolved"} {
		if _, err := q.Enqueue(ctx, notif(t, loadgen.Spec{Group: "g", Status: st})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Enqueue(ctx, notif(t, loadgen.Spec{Group: "other"})); err != nil {
		t.Fatal(err)
	}
	l := due(t, q, 10)
	if len(l) != 2 || l[0].Message().Notification.Status != "firing" {
		t.Fatalf("first receive: %d leases (want g's firing and other's)", len(l))
	}
	var g outbox.Lease
	for _, x := range l {
		if x.Message().Notification.GroupKey == "g" {
			g = x
		} else if err := x.Delivered(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Retry(ctx, time.Now().Add(time.Hour), "HTTP 503"); err != nil {
		t.Fatal(err)
	}
	if l := due(t, q, 10); len(l) != 0 {
		t.Fatalf("the resolved overtook its backing-off firing: %s", l[0].Message().Notification.Status)
	}
	if err := q.Expedite(ctx); err != nil {
		t.Fatal(err)
	}
	l = due(t, q, 10)
	if len(l) != 1 || l[0].Message().Notification.Status != "firing" || l[0].Message().Attempts != 1 {
		t.Fatalf("after expedite: %+v", l)
	}
	l[0].Delivered(ctx)
	l = due(t, q, 10)
	if len(l) != 1 || l[0].Message().Notification.Status != "resolved" {
		t.Fatalf("then the resolved: %+v", l)
	}
}

// A message over the limit (SQS's 1 MiB, or the queue's lower
// MaximumMessageSize; 64 KiB here to keep the test small) carries an S3
// key instead of the body, which is delivered whole.
func TestLargeBodyThroughS3(t *testing.T) {
	e := newEnv(t)
	q := e.openMax(t, 64<<10)
	ctx := context.Background()
	n := notif(t, loadgen.Spec{Group: "big", Alerts: 4000}) // ~3.5 MB; its gzip is over 64 KiB
	if _, err := q.Enqueue(ctx, n); err != nil {
		t.Fatal(err)
	}
	objs, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bodies")})
	if err != nil || len(objs.Contents) != 1 {
		t.Fatalf("objects %v %v: want the body in S3", objs, err)
	}
	l := due(t, q, 1)
	if len(l) != 1 || !bytes.Equal(l[0].Message().Notification.Raw, n.Raw) {
		t.Fatal("the large body did not come back whole")
	}
	l[0].Delivered(ctx)
	objs, _ = e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bodies")})
	if len(objs.Contents) != 0 {
		t.Fatalf("%d objects left after delivery", len(objs.Contents))
	}
	t.Logf("%d-byte body delivered through S3", len(n.Raw))
}

func TestBuryToDeadLetterQueue(t *testing.T) {
	e := newEnv(t)
	q := e.open(t)
	ctx := context.Background()
	q.Enqueue(ctx, notif(t, loadgen.Spec{Group: "g"}))
	l := due(t, q, 1)
	if err := l[0].Bury(ctx, "max age"); err != nil {
		t.Fatal(err)
	}
	if e.fake.Count(e.main) != 0 || e.fake.Count(e.dlq) != 1 {
		t.Fatalf("main %d dead %d", e.fake.Count(e.main), e.fake.Count(e.dlq))
	}
}

func TestOpenRejectsStandardQueue(t *testing.T) {
	e := newEnv(t)
	if _, err := Open(context.Background(), Config{SQS: e.sqs, QueueURL: e.main + "-missing"}); err == nil {
		t.Fatal("opened a queue that does not exist")
	}
}
