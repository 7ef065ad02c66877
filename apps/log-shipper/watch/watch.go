package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/unsilo/unsilo/apps/log-shipper/delta"
	"github.com/unsilo/unsilo/apps/log-shipper/lake"
)

// SQSAPI is the part of the SQS client watch uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// Watcher consumes one queue of S3 event notifications.
type Watcher struct {
	SQS      SQSAPI
	S3       lake.S3API
	QueueURL string
	Ingester *lake.Ingester
	// Wait is the long-poll time of a receive (SQS allows up to 20 s).
	Wait time.Duration
	// Visibility is how long a received message stays hidden; it is
	// extended every Visibility/2 while its objects are being ingested.
	Visibility time.Duration
	// UntilEmpty stops after a receive that returns no message.
	UntilEmpty bool
	Log        *slog.Logger
	// Sleep waits for a backoff (time.Sleep unless the context ends first);
	// tests record the durations instead.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
	// MaxBackoff caps the wait after repeated receive failures.
	MaxBackoff time.Duration
	// Workers is how many objects of a batch are staged at once; default
	// 4, as most of an object's time is waiting on S3 and fsync, not CPU.
	Workers int

	mu    sync.Mutex
	stats Stats
}

// Stats are the counters of a watcher.
type Stats struct {
	Receives  int64         `json:"receives"`
	Messages  int64         `json:"messages"`
	Deleted   int64         `json:"deleted"`
	Objects   int64         `json:"objects"`
	Records   int64         `json:"records"`
	Bad       int64         `json:"quarantined"`
	Unchanged int64         `json:"unchanged_objects"`
	Missing   int64         `json:"missing_objects"`
	Failed    int64         `json:"failed_objects"`
	Poison    int64         `json:"unparseable_messages"`
	Throttled int64         `json:"throttled_receives"`
	Errors    int64         `json:"receive_errors"`
	MaxLag    time.Duration `json:"max_lag_ns"`
	SumLag    time.Duration `json:"sum_lag_ns"`
}

// Stats returns a copy of the counters.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

func (w *Watcher) count(f func(*Stats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

func (w *Watcher) defaults() {
	if w.Wait <= 0 {
		w.Wait = 20 * time.Second
	}
	if w.Visibility <= 0 {
		w.Visibility = 5 * time.Minute
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Workers <= 0 {
		w.Workers = 4
	}
	if w.MaxBackoff <= 0 {
		w.MaxBackoff = time.Minute
	}
	if w.Sleep == nil {
		w.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
}

// Run receives and ingests until ctx ends (nil then) or, with UntilEmpty,
// until the queue is empty.
func (w *Watcher) Run(ctx context.Context) error {
	w.defaults()
	failures := 0
	for ctx.Err() == nil {
		out, err := w.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(w.QueueURL), MaxNumberOfMessages: 10,
			WaitTimeSeconds:   int32(w.Wait / time.Second),
			VisibilityTimeout: int32(w.Visibility / time.Second),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{
				sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			failures++
			throttled := IsThrottle(err)
			w.count(func(s *Stats) {
				if throttled {
					s.Throttled++
				} else {
					s.Errors++
				}
			})
			d := Backoff(failures, w.MaxBackoff)
			w.Log.Warn("receive failed; backing off", "throttled", throttled, "attempt", failures, "wait", d, "err", err)
			if err := w.Sleep(ctx, d); err != nil {
				break
			}
			continue
		}
		failures = 0
		w.count(func(s *Stats) { s.Receives++; s.Messages += int64(len(out.Messages)) })
		if len(out.Messages) == 0 {
			if w.UntilEmpty {
				return nil
			}
			continue
		}
		w.batch(ctx, out.Messages)
	}
	return nil
}

// Backoff is the wait after the n-th consecutive failure: exponential from
// 500 ms up to max, with equal jitter (half fixed, half random) so that
// replicas throttled together do not retry together.
func Backoff(n int, max time.Duration) time.Duration {
	d := 500 * time.Millisecond << min(n-1, 16)
	if d > max || d <= 0 {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}

// IsThrottle reports whether err is AWS throttling (the SDK's list of
// throttle codes, SQS's OverLimit, or HTTP 429/503).
func IsThrottle(err error) bool {
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "OverLimit" || ae.ErrorCode() == "KmsThrottled") {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && (re.HTTPStatusCode() == 429 || re.HTTPStatusCode() == 503)
}

// batch ingests the objects of received messages and deletes the messages
// whose objects are all committed (or gone). The objects are staged
// concurrently and then committed together, one log entry per table for
// the whole batch. A message with a failed object stays: SQS delivers it
// again after its visibility timeout, and its redrive policy moves it to
// the dead-letter queue after maxReceiveCount.
func (w *Watcher) batch(ctx context.Context, msgs []sqstypes.Message) {
	stop := w.heartbeat(ctx, msgs)
	defer stop()
	type staged struct {
		msg int
		obj Object
		fr  *lake.FileReport
		st  *lake.Staged
	}
	var mu sync.Mutex
	var work []staged
	ok := make([]bool, len(msgs))
	sem := make(chan struct{}, w.Workers)
	var wg sync.WaitGroup
	for i, m := range msgs {
		objs, err := ParseMessage(aws.ToString(m.Body))
		if err != nil {
			w.count(func(s *Stats) { s.Poison++ })
			w.Log.Error("message is not an S3 notification; left for the dead-letter queue", "message", aws.ToString(m.MessageId), "err", err)
			continue
		}
		ok[i] = true
		for _, o := range objs {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				fr, st, err := w.Ingester.Stage(ctx, lake.S3Input(w.S3, o.Bucket, o.Key, o.Size))
				mu.Lock()
				defer mu.Unlock()
				var nsk *types.NoSuchKey
				switch {
				case errors.As(err, &nsk):
					w.count(func(s *Stats) { s.Missing++ })
					w.Log.Warn("object gone before it was ingested", "object", o.URI())
				case err != nil:
					ok[i] = false
					w.count(func(s *Stats) { s.Failed++ })
					w.Log.Error("ingest failed; the message will be delivered again", "object", o.URI(), "receives", m.Attributes["ApproximateReceiveCount"], "err", err)
				default:
					work = append(work, staged{msg: i, obj: o, fr: fr, st: st})
				}
			}()
		}
	}
	wg.Wait()
	// One commit per table for the whole batch, in message order.
	sort.Slice(work, func(a, b int) bool { return work[a].msg < work[b].msg })
	byTable := map[*delta.Table][]int{}
	for j, x := range work {
		if x.st != nil {
			byTable[x.st.Table()] = append(byTable[x.st.Table()], j)
		}
	}
	for tbl, idx := range byTable {
		sts := make([]*lake.Staged, len(idx))
		for k, j := range idx {
			sts[k] = work[j].st
		}
		if _, err := lake.CommitStaged(ctx, tbl, sts); err != nil {
			w.Log.Error("commit failed; the messages will be delivered again", "table", tbl.Root, "objects", len(sts), "err", err)
			for _, j := range idx {
				ok[work[j].msg] = false
				work[j].fr = nil
			}
			w.count(func(s *Stats) { s.Failed += int64(len(idx)) })
		}
	}
	for _, x := range work {
		if x.fr == nil {
			continue
		}
		if x.st != nil {
			lake.Settle(x.fr, x.st)
		}
		w.done(x.obj, x.fr)
	}
	var del []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		if ok[i] {
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if len(del) == 0 {
		return
	}
	out, err := w.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(w.QueueURL), Entries: del})
	if err != nil {
		// Committed anyway: the redelivered messages recommit nothing.
		w.Log.Warn("delete messages failed; they will be delivered again (no duplicate: the objects are committed)", "err", err)
		return
	}
	for _, f := range out.Failed {
		w.Log.Warn("delete message failed", "id", aws.ToString(f.Id), "code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
	}
	w.count(func(s *Stats) { s.Deleted += int64(len(out.Successful)) })
}

// done counts a committed object.
func (w *Watcher) done(o Object, fr *lake.FileReport) {
	var lag time.Duration
	if !o.EventTime.IsZero() {
		lag = w.Now().Sub(o.EventTime)
	}
	w.count(func(s *Stats) {
		s.Objects++
		if fr.Unchanged { // committed before (a redelivery): nothing written
			s.Unchanged++
		} else {
			s.Records += fr.Records
			s.Bad += int64(len(fr.Bad))
		}
		s.SumLag += lag
		s.MaxLag = max(s.MaxLag, lag)
	})
	w.Log.Info("ingested", "object", o.URI(), "source", fr.Source, "records", fr.Records, "quarantined", len(fr.Bad), "unchanged", fr.Unchanged, "lag", lag)
}

// heartbeat keeps the batch's messages hidden while they are worked on.
func (w *Watcher) heartbeat(ctx context.Context, msgs []sqstypes.Message) func() {
	entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		entries[i] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle,
			VisibilityTimeout: int32(w.Visibility / time.Second)}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(max(w.Visibility/2, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := w.SQS.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(w.QueueURL), Entries: entries}); err != nil {
					w.Log.Warn("extend visibility failed", "err", err)
				}
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}
