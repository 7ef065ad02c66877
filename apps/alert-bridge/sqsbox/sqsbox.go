// Package sqsbox is alert-bridge's outbox on an Amazon SQS FIFO queue, for
// running several replicas (each receives webhooks, each delivers). SQS
// gives the semantics the embedded store implements itself:
//
//   - MessageGroupId is the alert group, so a group's states are received
//     in order and never two at once, by any replica;
//   - MessageDeduplicationId is the notification's dedupe key within the
//     current 5-minute window, so the HA pair's copies of one notification,
//     sent to different replicas, are stored once (SQS drops a repeat of
//     the id within its 5-minute deduplication interval); the same value
//     is the Idempotency-Key n8n sees, whichever replica delivers;
//   - a failed attempt hides the message for its backoff
//     (ChangeMessageVisibility), which holds back the rest of its group;
//   - a message received too often moves to the dead-letter queue by the
//     queue's redrive policy; past --max-age the bridge moves it itself.
//
// Bodies: the raw webhook is gzipped and base64-encoded inside a JSON
// envelope (SQS accepts only XML-safe Unicode; base64 is). When the
// envelope would exceed MaxMessage (SQS's limit is 1 MiB), the gzipped body
// goes to S3 and the message carries its key, the pattern of the SQS
// Extended Client Library; the largest outages are delivered whole.
package sqsbox

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/unsilo/unsilo/apps/alert-bridge/membudget"
	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// MaxMessage is SQS's message size limit: SendMessage's MessageBody is at
// most 1 MiB (1,048,576 bytes; aws-sdk-go-v2 service/sqs documentation).
const MaxMessage = 1 << 20

// DedupWindow is SQS FIFO's deduplication interval.
const DedupWindow = 5 * time.Minute

// Config wires a Queue.
type Config struct {
	SQS          *sqs.Client
	QueueURL     string // a .fifo queue
	DeadQueueURL string // a .fifo queue for dead letters (optional)
	S3           *s3.Client
	Bucket       string // for bodies over MaxMessage; required to accept them
	Prefix       string // object key prefix; default "alert-bridge/"
	// MaxMessage: a larger SQS message body goes through S3. Default (and
	// most) MaxMessage; set it to the queue's MaximumMessageSize if lower.
	MaxMessage int
	// Visibility hides a received message while it is attempted; it must
	// exceed an attempt. Default 2 minutes.
	Visibility time.Duration
	// WaitTime is the long poll of a receive (at most 20s). Default 20s.
	WaitTime time.Duration
	Budget   *membudget.Budget // charged for received bodies (optional)
	Now      func() time.Time
}

// Queue implements outbox.Queue on SQS.
type Queue struct {
	cfg     Config
	health  atomic.Pointer[error]
	depth   atomic.Int64
	dead    atomic.Int64
	stop    chan struct{}
	stopped chan struct{}

	mu      sync.Mutex
	backoff map[string]string // group -> receipt of a message hidden for its backoff
}

// Open checks the queue and starts refreshing its depth.
func Open(ctx context.Context, cfg Config) (*Queue, error) {
	if cfg.SQS == nil || cfg.QueueURL == "" {
		return nil, errors.New("sqsbox: an SQS client and a queue URL are required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "alert-bridge/"
	}
	if cfg.MaxMessage <= 0 || cfg.MaxMessage > MaxMessage {
		cfg.MaxMessage = MaxMessage
	}
	if cfg.Visibility <= 0 {
		cfg.Visibility = 2 * time.Minute
	}
	if cfg.WaitTime <= 0 || cfg.WaitTime > 20*time.Second {
		cfg.WaitTime = 20 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	q := &Queue{cfg: cfg, stop: make(chan struct{}), stopped: make(chan struct{}), backoff: map[string]string{}}
	attrs, err := cfg.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &cfg.QueueURL,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameFifoQueue}})
	if err != nil {
		return nil, fmt.Errorf("sqsbox: queue %s: %w", cfg.QueueURL, err)
	}
	if attrs.Attributes["FifoQueue"] != "true" {
		return nil, fmt.Errorf("sqsbox: queue %s is not a FIFO queue: per-group order and deduplication need one", cfg.QueueURL)
	}
	q.refresh(ctx)
	go q.refresher()
	return q, nil
}

// Close stops the depth refresher.
func (q *Queue) Close() error {
	close(q.stop)
	<-q.stopped
	return nil
}

func (q *Queue) refresher() {
	defer close(q.stopped)
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-q.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			q.refresh(ctx)
			cancel()
		}
	}
}

func (q *Queue) refresh(ctx context.Context) {
	count := func(u string) (int64, error) {
		out, err := q.cfg.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &u, AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			return 0, err
		}
		a, _ := strconv.ParseInt(out.Attributes["ApproximateNumberOfMessages"], 10, 64)
		b, _ := strconv.ParseInt(out.Attributes["ApproximateNumberOfMessagesNotVisible"], 10, 64)
		return a + b, nil
	}
	if n, err := count(q.cfg.QueueURL); err == nil {
		q.depth.Store(n)
	}
	if q.cfg.DeadQueueURL != "" {
		if n, err := count(q.cfg.DeadQueueURL); err == nil {
			q.dead.Store(n)
		}
	}
}

// Depth is SQS's approximate count of messages in the queue (refreshed
// every 10s).
func (q *Queue) Depth() int64 { return q.depth.Load() }

// DeadCount is the approximate count in the dead-letter queue.
func (q *Queue) DeadCount() int64 { return q.dead.Load() }

// Healthy is nil unless the last SQS or S3 call failed.
func (q *Queue) Healthy() error {
	if p := q.health.Load(); p != nil {
		return *p
	}
	return nil
}

func (q *Queue) note(err error) error {
	if err == nil {
		q.health.Store(nil)
		return nil
	}
	q.health.Store(&err)
	return err
}

// envelope is the SQS message body.
type envelope struct {
	ID           string               `json:"id"`
	ReceivedAt   time.Time            `json:"receivedAt"`
	Notification payload.Notification `json:"notification"`
	Body         string               `json:"body,omitempty"` // base64(gzip(raw))
	Object       string               `json:"object,omitempty"`
	Replayed     bool                 `json:"replayed,omitempty"`
}

// Key is the Idempotency-Key and MessageDeduplicationId of n received at
// t: the dedupe key and its 5-minute window, identical on every replica
// that receives a copy of n in the same window.
func Key(n *payload.Notification, t time.Time) string {
	return n.DedupeKey.String() + "-" + strconv.FormatInt(t.UnixNano()/int64(DedupWindow), 36)
}

func gz(raw []byte) ([]byte, error) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func gunzip(z []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// Enqueue sends n to the queue; it returns once SQS has stored it.
func (q *Queue) Enqueue(ctx context.Context, n *payload.Notification) (outbox.EnqueueResult, error) {
	now := q.cfg.Now()
	key := Key(n, now)
	return outbox.EnqueueResult{ID: key}, q.send(ctx, q.cfg.QueueURL, n, key, key, now, false)
}

func (q *Queue) send(ctx context.Context, queueURL string, n *payload.Notification, key, dedupID string, receivedAt time.Time, replayed bool) error {
	z, err := gz(n.Raw)
	if err != nil {
		return fmt.Errorf("compress body: %w", err)
	}
	env := envelope{ID: key, ReceivedAt: receivedAt, Notification: *n, Body: base64.StdEncoding.EncodeToString(z), Replayed: replayed}
	body, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	if len(body) > q.cfg.MaxMessage {
		if q.cfg.S3 == nil || q.cfg.Bucket == "" {
			return fmt.Errorf("message of %d bytes is over the SQS limit of %d and no large-body bucket is configured", len(body), q.cfg.MaxMessage)
		}
		env.Body, env.Object = "", q.cfg.Prefix+n.GroupID.String()+"/"+key+".json.gz"
		if _, err := q.cfg.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &q.cfg.Bucket, Key: &env.Object, Body: bytes.NewReader(z),
			ContentLength: aws.Int64(int64(len(z))), ContentType: aws.String("application/json"), ContentEncoding: aws.String("gzip")}); err != nil {
			return q.note(fmt.Errorf("store large body in s3://%s/%s: %w", q.cfg.Bucket, env.Object, err))
		}
		if body, err = json.Marshal(env); err != nil {
			return fmt.Errorf("encode message: %w", err)
		}
	}
	group := n.GroupID.String()
	_, err = q.cfg.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: aws.String(string(body)),
		MessageGroupId: &group, MessageDeduplicationId: &dedupID})
	if err != nil {
		return q.note(fmt.Errorf("send to %s: %w", queueURL, err))
	}
	q.note(nil)
	return nil
}
