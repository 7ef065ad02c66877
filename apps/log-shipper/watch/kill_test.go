package watch

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/unsilo/unsilo/apps/log-shipper/delta"
	"github.com/unsilo/unsilo/apps/log-shipper/gen"
	"github.com/unsilo/unsilo/apps/log-shipper/lake"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// The kill test runs the watcher in a child process (this test binary
// again, with childEnv set), so that it can be killed with SIGKILL.
const childEnv = "LOG_SHIPPER_WATCH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := runChild(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild is `log-shipper watch --until-empty --out s3://curated/logs`
// against the endpoints the parent test serves.
func runChild(ctx context.Context) error {
	creds := credentials.NewStaticCredentialsProvider("a", "b", "")
	s3c := s3.New(s3.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(os.Getenv("CHILD_S3")), UsePathStyle: true, Credentials: creds})
	sqsc := sqs.New(sqs.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(os.Getenv("CHILD_SQS")), RetryMaxAttempts: 1, Credentials: creds})
	w := &Watcher{SQS: sqsc, S3: s3c, QueueURL: os.Getenv("CHILD_SQS") + "/123456789012/lake-ingest", UntilEmpty: true,
		Ingester: &lake.Ingester{Store: &lake.S3Store{Client: s3c, Bucket: "curated", Prefix: "logs", Staging: os.Getenv("CHILD_STAGING")}, Source: "auto"},
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil))}
	return w.Run(ctx)
}

// gate holds the n-th request that match selects until the process that
// sent it is gone, and reports that it got there: a deterministic point
// at which to kill the watcher.
type gate struct {
	next    http.Handler
	match   func(*http.Request) bool
	n       int64
	seen    atomic.Int64
	off     atomic.Bool
	hit     chan struct{}
	release chan struct{} // closed once the client is dead
	once    sync.Once
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.off.Load() && g.match(r) && g.seen.Add(1) == g.n {
		g.once.Do(func() { close(g.hit) })
		// Held until the test has killed the client (a server notices a
		// closed connection only once the body is read, so release says so).
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-g.release:
		}
		return
	}
	g.next.ServeHTTP(w, r)
}

// TestKill9DuringWatchLosesNothing kills the watcher at three points of
// its second batch (14 objects: batches of 10 and 4): while reading an
// object, at a table's commit (Parquet uploaded, log entry not), and after
// the commits before the messages are deleted. The queue then redelivers
// what was not deleted (the visibility timeout running out), a new watcher
// drains it, and every object's rows are in the lake exactly once.
func TestKill9DuringWatchLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	points := map[string]struct {
		n     int64
		match func(*http.Request) bool
	}{
		"ReadingAnObject": {13, func(r *http.Request) bool {
			return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/raw/")
		}},
		"AtACommit": {3, func(r *http.Request) bool {
			return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/_delta_log/")
		}},
		"BeforeTheDelete": {2, func(r *http.Request) bool { return r.Header.Get("X-Amz-Target") == "AmazonSQS.DeleteMessageBatch" }},
	}
	for name, p := range points {
		t.Run(name, func(t *testing.T) {
			backend := s3mem.New()
			s3g := &gate{next: gofakes3.New(backend).Server(), hit: make(chan struct{}), release: make(chan struct{})}
			q, _ := newFakeSQS(t, 5)
			sqsg := &gate{next: q, hit: make(chan struct{}), release: make(chan struct{})}
			g := s3g
			if strings.HasPrefix(name, "Before") {
				g = sqsg
			}
			g.match, g.n = p.match, p.n
			never := func(*http.Request) bool { return false }
			if s3g.match == nil {
				s3g.match = never
			}
			if sqsg.match == nil {
				sqsg.match = never
			}
			s3srv, sqssrv := httptest.NewServer(s3g), httptest.NewServer(sqsg)
			t.Cleanup(s3srv.Close)
			t.Cleanup(sqssrv.Close)
			c := s3.New(s3.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(s3srv.URL), UsePathStyle: true,
				Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
			want := seed(t, c, q)

			child := exec.Command(os.Args[0], "-test.run=^$")
			staging := t.TempDir()
			child.Env = append(os.Environ(), childEnv+"=1", "CHILD_S3="+s3srv.URL, "CHILD_SQS="+sqssrv.URL, "CHILD_STAGING="+staging)
			var stderr bytes.Buffer
			child.Stderr = &stderr
			if err := child.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- child.Wait() }()
			select {
			case <-g.hit:
			case err := <-exited:
				t.Fatalf("the watcher ended (%v) before the kill point\n%s", err, stderr.String())
			}
			if err := child.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-exited
			g.off.Store(true)
			close(g.release)
			q.expire() // the killed watcher's messages become visible again
			store := &lake.S3Store{Client: c, Bucket: "curated", Prefix: "logs", Staging: t.TempDir()}
			// The kill left work undone: objects not committed, or committed
			// objects whose messages come back.
			committed := 0
			for source := range want {
				committed += len(rowsPerObject(t, store, source))
			}
			if queued, _ := q.counts(); queued == 0 || (committed == 14) != (name == "BeforeTheDelete") {
				t.Fatalf("at the kill: %d of 14 objects committed, %d messages queued", committed, queued)
			}

			// A new process, as after a pod restart: nothing carried over but
			// the lake and the queue.
			if err := runChildIn(t, s3srv.URL, sqssrv.URL); err != nil {
				t.Fatal(err)
			}
			if queued, dead := q.counts(); queued != 0 || dead != 0 {
				t.Fatalf("queue %d, dead-letter %d after the rerun: want both empty", queued, dead)
			}
			for source, objs := range want {
				got := rowsPerObject(t, store, source)
				if len(got) != len(objs) {
					t.Errorf("%s: %d objects in the lake, want %d", source, len(got), len(objs))
				}
				for key, n := range objs {
					if got[key] != n {
						t.Errorf("%s %s: %d rows, want %d (each once)", source, key, got[key], n)
					}
				}
			}
		})
	}
}

func runChildIn(t *testing.T, s3URL, sqsURL string) error {
	t.Setenv("CHILD_S3", s3URL)
	t.Setenv("CHILD_SQS", sqsURL)
	t.Setenv("CHILD_STAGING", t.TempDir())
	return runChild(t.Context())
}

// seed puts 14 objects (ALB and WAF alternating, different sizes) in the
// raw bucket with their notifications, and returns the rows expected per
// source and object.
func seed(t *testing.T, c *s3.Client, q *fakeSQS) map[string]map[string]int {
	t.Helper()
	for _, b := range []string{"raw", "curated"} {
		if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]map[string]int{schema.ALB: {}, schema.WAF: {}}
	start := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	for i := range 14 {
		typ, key := schema.ALB, fmt.Sprintf("AWSLogs/123456789012/elasticloadbalancing/ap-northeast-2/2026/11/28/o%02d.log.gz", i)
		if i%2 == 1 {
			typ, key = schema.WAF, fmt.Sprintf("waf/dt=2026-11-28/hour=%02d/aws-waf-logs-%02d.gz", i, i)
		}
		lines := 100 + 37*i
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if err := gen.Write(zw, gen.Options{Type: typ, Lines: lines, Seed: uint64(i), Start: start.Add(time.Duration(i) * time.Hour), Span: time.Hour}); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("raw"), Key: aws.String(key), Body: bytes.NewReader(b.Bytes())}); err != nil {
			t.Fatal(err)
		}
		q.send(notification("ObjectCreated:Put", key, int64(b.Len())))
		want[typ]["s3://raw/"+key] = lines
	}
	return want
}

// rowsPerObject counts the committed rows of a table by source_object.
func rowsPerObject(t *testing.T, st *lake.S3Store, source string) map[string]int {
	t.Helper()
	src, err := schema.Lookup(source)
	if err != nil {
		t.Fatal(err)
	}
	col := src.MustIndex(schema.SourceObject)
	snap, err := delta.Load(t.Context(), st, "source="+source+"/")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range snap.Files {
		b, err := st.Get(t.Context(), "source="+source+"/"+a.Path)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := lake.ReadFile(bytes.NewReader(b), int64(len(b)), src)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			out[r.Values[col].Str]++
		}
	}
	return out
}
