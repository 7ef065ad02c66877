package watch

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/unsilo/unsilo/apps/log-shipper/delta"
	"github.com/unsilo/unsilo/apps/log-shipper/gen"
	"github.com/unsilo/unsilo/apps/log-shipper/lake"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

type env struct {
	t     testing.TB
	s3    *s3.Client
	queue *fakeSQS
	sqs   SQSAPI
	lake  *lake.LocalStore
}

func newEnv(t testing.TB, maxReceive int) *env {
	ts := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(ts.Close)
	c := s3.New(s3.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(ts.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("raw")}); err != nil {
		t.Fatal(err)
	}
	q, qc := newFakeSQS(t, maxReceive)
	st, err := lake.NewLocalStore(filepath.Join(t.TempDir(), "lake"))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, s3: c, queue: q, sqs: qc, lake: st}
}

// put uploads a generated log object and queues its notification.
func (e *env) put(key, typ string, lines int, seed uint64) {
	e.putGen(key, gen.Options{Type: typ, Lines: lines, Seed: seed})
}

func (e *env) putGen(key string, o gen.Options) {
	e.queue.send(notification("ObjectCreated:Put", key, e.upload(key, o)))
}

// upload puts a generated log object and returns its size.
func (e *env) upload(key string, o gen.Options) int64 {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if err := gen.Write(zw, o); err != nil {
		e.t.Fatal(err)
	}
	zw.Close()
	if _, err := e.s3.PutObject(e.t.Context(), &s3.PutObjectInput{Bucket: aws.String("raw"), Key: aws.String(key), Body: bytes.NewReader(b.Bytes())}); err != nil {
		e.t.Fatal(err)
	}
	return int64(b.Len())
}

func notification(event, key string, size int64) string {
	return notificationIn("raw", event, key, size)
}

func notificationIn(bucket, event, key string, size int64) string {
	rec := map[string]any{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "ap-northeast-2", "eventName": event,
		"eventTime": time.Now().UTC().Format(time.RFC3339Nano),
		"s3": map[string]any{"bucket": map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket},
			"object": map[string]any{"key": url.QueryEscape(key), "size": size, "sequencer": "0055AED6DCD90281E5"}}}
	b, _ := json.Marshal(map[string]any{"Records": []any{rec}})
	return string(b)
}

func (e *env) watcher() (*Watcher, *[]time.Duration) {
	var slept []time.Duration
	return &Watcher{SQS: e.sqs, S3: e.s3, QueueURL: "https://sqs.ap-northeast-2.amazonaws.com/123456789012/lake-events",
		Ingester: &lake.Ingester{Store: e.lake, Source: "auto"}, UntilEmpty: true, Visibility: time.Minute,
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }}, &slept
}

func (e *env) rows(source string) int {
	src, _ := schema.Lookup(source)
	snap, err := delta.Load(e.t.Context(), e.lake, "source="+source+"/")
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, a := range snap.Files {
		b, err := e.lake.Get(e.t.Context(), "source="+source+"/"+a.Path)
		if err != nil {
			e.t.Fatal(err)
		}
		recs, err := lake.ReadFile(bytes.NewReader(b), int64(len(b)), src)
		if err != nil {
			e.t.Fatal(err)
		}
		n += len(recs)
	}
	return n
}

func TestWatchIngestsEachObjectOnce(t *testing.T) {
	e := newEnv(t, 5)
	e.put("AWSLogs/123456789012/elasticloadbalancing/ap-northeast-2/2026/11/28/a b.log.gz", schema.ALB, 500, 1)
	e.put("waf/dt=2026-11-28/hour=10/w.gz", schema.WAF, 200, 2)
	e.queue.send(`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-28T10:00:00Z","Bucket":"raw"}`)
	e.queue.send(notification("ObjectRemoved:Delete", "gone.log", 0))
	e.queue.send(notification("ObjectCreated:Put", "deleted-before-ingest.log.gz", 10))
	w, _ := e.watcher()
	if err := w.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Objects != 2 || st.Missing != 1 || st.Deleted != 5 || st.Failed != 0 || st.Records != 700 {
		t.Fatalf("stats %+v: want 2 objects (700 records), 1 missing, all 5 messages deleted", st)
	}
	if q, _ := e.queue.counts(); q != 0 || e.rows(schema.ALB) != 500 || e.rows(schema.WAF) != 200 {
		t.Fatalf("queue %d, alb %d, waf %d", q, e.rows(schema.ALB), e.rows(schema.WAF))
	}

	// A crash after the commit and before the delete: the message comes back
	// and its object is committed already, so nothing is added.
	e.put("AWSLogs/123456789012/elasticloadbalancing/ap-northeast-2/2026/11/28/c.log.gz", schema.ALB, 300, 3)
	e.queue.failDelete = true
	w, _ = e.watcher()
	w.Run(t.Context())
	e.queue.failDelete = false
	e.queue.expire()
	w2, _ := e.watcher() // a new process: nothing carried over but the lake
	if err := w2.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := w2.Stats(); st.Unchanged != 1 || st.Deleted != 1 || e.rows(schema.ALB) != 800 {
		t.Fatalf("redelivery: %+v, alb rows %d (want the redelivered object unchanged, 800 rows)", st, e.rows(schema.ALB))
	}
}

func TestWatchBacksOffOnThrottling(t *testing.T) {
	e := newEnv(t, 5)
	e.put("waf/x.gz", schema.WAF, 10, 1)
	e.queue.throttle = 4
	w, slept := e.watcher()
	w.MaxBackoff = 3 * time.Second
	if err := w.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Throttled != 4 || st.Objects != 1 {
		t.Fatalf("stats %+v", st)
	}
	// 500 ms, 1 s, 2 s, then capped at 3 s; each with up to half jitter.
	for i, full := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 3 * time.Second} {
		if d := (*slept)[i]; d < full/2 || d > full {
			t.Errorf("backoff %d: %v, want within [%v, %v]", i, d, full/2, full)
		}
	}
}

// blockingS3 holds every GetObject until the watcher has extended the
// message's visibility once: a slow object keeps its message hidden.
type blockingS3 struct {
	lake.S3API
	until <-chan struct{}
}

func (b blockingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	select {
	case <-b.until:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.S3API.GetObject(ctx, in, opts...)
}

func TestWatchExtendsVisibilityOfSlowObjects(t *testing.T) {
	e := newEnv(t, 5)
	e.put("waf/slow.gz", schema.WAF, 10, 1)
	w, _ := e.watcher()
	w.Visibility = 40 * time.Millisecond
	w.S3 = blockingS3{S3API: e.s3, until: e.queue.extended}
	if err := w.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Objects != 1 || st.Deleted != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// failingS3 answers 500 for one key.
type failingS3 struct {
	lake.S3API
	key string
}

func (f failingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if aws.ToString(in.Key) == f.key {
		return nil, errors.New("InternalError: we encountered an internal error")
	}
	return f.S3API.GetObject(ctx, in, opts...)
}

func TestWatchFailuresReachTheDeadLetterQueue(t *testing.T) {
	e := newEnv(t, 2)
	e.put("waf/good.gz", schema.WAF, 10, 1)
	e.put("waf/broken.gz", schema.WAF, 10, 2)
	e.queue.send("this is not an S3 notification")
	w, _ := e.watcher()
	w.S3 = failingS3{S3API: e.s3, key: "waf/broken.gz"}
	for range 3 { // maxReceiveCount 2: the third receive redrives them
		if err := w.Run(t.Context()); err != nil {
			t.Fatal(err)
		}
		e.queue.expire()
	}
	if q, dlq := e.queue.counts(); q != 0 || dlq != 2 {
		t.Fatalf("queue %d, dead-letter %d: want the broken object's and the unparseable message in the DLQ", q, dlq)
	}
	if st := w.Stats(); st.Objects != 1 || st.Failed != 2 || st.Poison != 2 || e.rows(schema.WAF) != 10 {
		t.Fatalf("stats %+v rows %d", st, e.rows(schema.WAF))
	}
}

// A received batch commits once per table: ten objects, one log entry.
// The same object notified twice in one batch is committed once.
func TestWatchCommitsABatchAtOnce(t *testing.T) {
	e := newEnv(t, 5)
	for i := range 9 {
		e.put(fmt.Sprintf("waf/o%d.gz", i), schema.WAF, 20, uint64(i))
	}
	e.queue.send(notification("ObjectCreated:Put", "waf/o0.gz", 10)) // a duplicate notification
	w, _ := e.watcher()
	if err := w.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	logs, _ := e.lake.List(t.Context(), "source=waf/"+delta.LogDir)
	if len(logs) != 1 || e.rows(schema.WAF) != 180 {
		t.Fatalf("%d log entries, %d rows: want one commit of 9 objects (180 rows)", len(logs), e.rows(schema.WAF))
	}
	if st := w.Stats(); st.Deleted != 10 || st.Objects != 10 {
		t.Fatalf("stats %+v", st)
	}
}
