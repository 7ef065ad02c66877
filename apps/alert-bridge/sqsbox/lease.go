package sqsbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// Due long-polls the queue for up to max messages (at most 10, SQS's
// limit). SQS may return consecutive messages of one group in one call:
// only the first becomes a lease, the others are made visible again at
// once and come back after it, so a group is never attempted twice at a
// time.
func (q *Queue) Due(ctx context.Context, max int) ([]outbox.Lease, time.Duration, error) {
	out, err := q.cfg.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &q.cfg.QueueURL, MaxNumberOfMessages: int32(min(max, 10)),
		WaitTimeSeconds: int32(q.cfg.WaitTime / time.Second), VisibilityTimeout: int32(q.cfg.Visibility / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, nil
		}
		return nil, time.Second, q.note(fmt.Errorf("receive from %s: %w", q.cfg.QueueURL, err))
	}
	q.note(nil)
	var leases []outbox.Lease
	seen := map[string]bool{}
	for _, m := range out.Messages {
		group := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
		l := &lease{q: q, receipt: aws.ToString(m.ReceiptHandle), group: group}
		if seen[group] {
			l.Release()
			continue
		}
		seen[group] = true
		if err := l.load(ctx, m); err != nil {
			// A message this bridge cannot read would block its group for
			// ever: park it where an operator sees it.
			l.msg = &outbox.Message{ID: aws.ToString(m.MessageId), LastError: err.Error()}
			l.raw = aws.ToString(m.Body)
			if berr := l.Bury(ctx, "unreadable message: "+err.Error()); berr != nil {
				l.Release()
			}
			continue
		}
		q.mu.Lock()
		delete(q.backoff, group)
		q.mu.Unlock()
		leases = append(leases, l)
	}
	return leases, 0, nil
}

type lease struct {
	q       *Queue
	receipt string
	group   string
	msg     *outbox.Message
	object  string
	raw     string // the SQS body, kept for dead letters
	charged int64
}

func (l *lease) load(ctx context.Context, m types.Message) error {
	l.raw = aws.ToString(m.Body)
	var env envelope
	if err := json.Unmarshal([]byte(l.raw), &env); err != nil {
		return fmt.Errorf("decode envelope: %w", err)
	}
	var z []byte
	var err error
	if env.Object != "" {
		l.object = env.Object
		obj, gerr := l.q.cfg.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &l.q.cfg.Bucket, Key: &env.Object})
		if gerr != nil {
			return l.q.note(fmt.Errorf("fetch large body s3://%s/%s: %w", l.q.cfg.Bucket, env.Object, gerr))
		}
		z, err = io.ReadAll(obj.Body)
		obj.Body.Close()
	} else {
		z, err = base64.StdEncoding.DecodeString(env.Body)
	}
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	raw, err := gunzip(z)
	if err != nil {
		return fmt.Errorf("decompress body: %w", err)
	}
	if b := l.q.cfg.Budget; b != nil {
		if err := b.Acquire(ctx, int64(len(raw))); err != nil {
			return err
		}
		l.charged = int64(len(raw))
	}
	n := env.Notification
	n.Raw = raw
	attempts, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	sent, _ := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64)
	var g payload.Digest
	_ = g.UnmarshalText([]byte(l.group))
	l.msg = &outbox.Message{ID: env.ID, GroupID: g, Notification: n, ReceivedAt: env.ReceivedAt, AgeFrom: time.UnixMilli(sent),
		Attempts: max(attempts-1, 0), Replayed: env.Replayed}
	return nil
}

func (l *lease) Message() *outbox.Message { return l.msg }

func (l *lease) done() {
	if l.charged > 0 && l.q.cfg.Budget != nil {
		l.q.cfg.Budget.Release(l.charged)
		l.charged = 0
	}
}

func (l *lease) Delivered(ctx context.Context) error {
	if _, err := l.q.cfg.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &l.q.cfg.QueueURL, ReceiptHandle: &l.receipt}); err != nil {
		return l.q.note(fmt.Errorf("delete %s: %w", l.msg.ID, err))
	}
	l.done()
	if l.object != "" {
		// Best effort: the bucket's lifecycle rule expires what is left.
		_, _ = l.q.cfg.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &l.q.cfg.Bucket, Key: &l.object})
	}
	return nil
}

// Retry hides the message until next (at most SQS's 12 hours), which holds
// back the rest of its group.
func (l *lease) Retry(ctx context.Context, next time.Time, _ string) error {
	secs := int32(min(math.Ceil(next.Sub(l.q.cfg.Now()).Seconds()), 43200))
	if _, err := l.q.cfg.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &l.q.cfg.QueueURL,
		ReceiptHandle: &l.receipt, VisibilityTimeout: max(secs, 0)}); err != nil {
		return l.q.note(fmt.Errorf("reschedule %s: %w", l.msg.ID, err))
	}
	l.q.mu.Lock()
	l.q.backoff[l.group] = l.receipt
	l.q.mu.Unlock()
	l.done()
	return nil
}

// Bury moves the message to the dead-letter queue, then deletes it.
func (l *lease) Bury(ctx context.Context, reason string) error {
	if l.q.cfg.DeadQueueURL == "" {
		return fmt.Errorf("park %s: no dead-letter queue configured (--sqs-dead-queue-url)", l.msg.ID)
	}
	dedup := l.msg.ID + "-dead"
	body := l.raw
	if len(body) == 0 {
		body = "{}"
	}
	if _, err := l.q.cfg.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &l.q.cfg.DeadQueueURL, MessageBody: &body,
		MessageGroupId: aws.String(l.group + "-dead"), MessageDeduplicationId: &dedup,
		MessageAttributes: map[string]types.MessageAttributeValue{"reason": {DataType: aws.String("String"), StringValue: aws.String(reason)}}}); err != nil {
		return l.q.note(fmt.Errorf("park %s in %s: %w", l.msg.ID, l.q.cfg.DeadQueueURL, err))
	}
	if _, err := l.q.cfg.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &l.q.cfg.QueueURL, ReceiptHandle: &l.receipt}); err != nil {
		return l.q.note(fmt.Errorf("delete parked %s: %w", l.msg.ID, err))
	}
	l.done()
	return nil
}

// Release makes the message visible again at once.
func (l *lease) Release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = l.q.cfg.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &l.q.cfg.QueueURL,
		ReceiptHandle: &l.receipt, VisibilityTimeout: 0})
	l.done()
}

// Expedite makes the messages this replica hid for their backoff visible
// again (the target recovered). Other replicas' backoffs run out on their own.
func (q *Queue) Expedite(ctx context.Context) error {
	q.mu.Lock()
	receipts := q.backoff
	q.backoff = map[string]string{}
	q.mu.Unlock()
	for _, r := range receipts {
		_, _ = q.cfg.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &q.cfg.QueueURL,
			ReceiptHandle: aws.String(r), VisibilityTimeout: 0})
	}
	return nil
}
