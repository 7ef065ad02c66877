// Package sqsfake is an in-memory Amazon SQS FIFO endpoint for tests: it
// speaks the AWS JSON 1.0 protocol the aws-sdk-go-v2 SQS client uses (one
// POST per call, X-Amz-Target: AmazonSQS.<Operation>) and decodes and
// encodes the SDK's own input, output and types structs. It keeps the
// FIFO semantics alert-bridge relies on: MessageGroupId ordering with a
// group locked while one of its messages is in flight, deduplication by
// MessageDeduplicationId for 5 minutes, visibility timeouts, receipt
// handles, long polling, and the 1 MiB message limit. Test-only: nothing
// in the alert-bridge binary imports it.
package sqsfake

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// MaxMessageBytes is SQS's message size limit (the SDK documents 1 MiB,
// 1,048,576 bytes, for SendMessage's MessageBody).
const MaxMessageBytes = 1 << 20

// DedupWindow is SQS FIFO's deduplication interval.
const DedupWindow = 5 * time.Minute

// Server is the fake. Create queues with Queue; serve it with httptest.
type Server struct {
	mu     sync.Mutex
	queues map[string]*queue
	wake   chan struct{} // closed and replaced on every change (long polls wait on it)
	Now    func() time.Time
	// Calls counts requests by operation (for assertions).
	Calls map[string]int
}

type queue struct {
	url   string
	msgs  []*msg
	dedup map[string]dedupEntry
	seq   int64
}

type dedupEntry struct {
	at time.Time
	id string
}

type msg struct {
	id, body, group, dedup, receipt string
	seq                             int64
	sent, firstReceive, visibleAt   time.Time
	receives                        int
}

// New returns an empty fake.
func New() *Server {
	return &Server{queues: map[string]*queue{}, wake: make(chan struct{}), Now: time.Now, Calls: map[string]int{}}
}

// Queue creates a FIFO queue and returns its URL (base is the server's URL).
func (s *Server) Queue(base, name string) string {
	if !strings.HasSuffix(name, ".fifo") {
		panic("sqsfake: FIFO queue names end in .fifo")
	}
	u := strings.TrimRight(base, "/") + "/123456789012/" + name
	s.mu.Lock()
	s.queues[u] = &queue{url: u, dedup: map[string]dedupEntry{}}
	s.mu.Unlock()
	return u
}

// Count returns how many messages the queue holds (visible or not).
func (s *Server) Count(queueURL string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queues[queueURL].msgs)
}

type apiError struct {
	status  int
	code    string
	message string
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	if r.Method != http.MethodPost || !ok {
		writeErr(w, apiError{400, "InvalidAction", "want POST with X-Amz-Target: AmazonSQS.<Operation>"})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeErr(w, apiError{400, "InvalidRequest", err.Error()})
		return
	}
	s.mu.Lock()
	s.Calls[op]++
	s.mu.Unlock()
	var out any
	var aerr *apiError
	switch op {
	case "SendMessage":
		var in sqs.SendMessageInput
		if aerr = decode(body, &in); aerr == nil {
			out, aerr = s.send(&in)
		}
	case "ReceiveMessage":
		var in sqs.ReceiveMessageInput
		if aerr = decode(body, &in); aerr == nil {
			out, aerr = s.receive(r, &in)
		}
	case "DeleteMessage":
		var in sqs.DeleteMessageInput
		if aerr = decode(body, &in); aerr == nil {
			out, aerr = s.delete(&in)
		}
	case "ChangeMessageVisibility":
		var in sqs.ChangeMessageVisibilityInput
		if aerr = decode(body, &in); aerr == nil {
			out, aerr = s.changeVisibility(&in)
		}
	case "GetQueueAttributes":
		var in sqs.GetQueueAttributesInput
		if aerr = decode(body, &in); aerr == nil {
			out, aerr = s.attributes(&in)
		}
	default:
		aerr = &apiError{400, "UnsupportedOperation", op + " is not implemented by sqsfake"}
	}
	if aerr != nil {
		writeErr(w, *aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	json.NewEncoder(w).Encode(out)
}

func decode(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{400, "InvalidParameterValue", "malformed request: " + err.Error()}
	}
	return nil
}

func writeErr(w http.ResponseWriter, e apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Query-Error", e.code+";Sender")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + e.code, "message": e.message})
}

func (s *Server) queue(u *string) (*queue, *apiError) {
	if u == nil {
		return nil, &apiError{400, "MissingParameter", "QueueUrl is required"}
	}
	q := s.queues[*u]
	if q == nil {
		return nil, &apiError{400, (&types.QueueDoesNotExist{}).ErrorCode(), "The specified queue does not exist."}
	}
	return q, nil
}

func (s *Server) changed() {
	close(s.wake)
	s.wake = make(chan struct{})
}

func md5hex(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }

func token() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) send(in *sqs.SendMessageInput) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queue(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	switch {
	case in.MessageBody == nil || *in.MessageBody == "":
		return nil, &apiError{400, "MissingParameter", "The request must contain the parameter MessageBody."}
	case len(*in.MessageBody) > MaxMessageBytes:
		return nil, &apiError{400, "InvalidParameterValue", fmt.Sprintf("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", MaxMessageBytes)}
	case in.MessageGroupId == nil || *in.MessageGroupId == "":
		return nil, &apiError{400, "MissingParameter", "The request must contain the parameter MessageGroupId."}
	case in.MessageDeduplicationId == nil || len(*in.MessageDeduplicationId) > 128:
		return nil, &apiError{400, "InvalidParameterValue", "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly (at most 128 characters)"}
	}
	now := s.Now()
	if e, ok := q.dedup[*in.MessageDeduplicationId]; ok && now.Sub(e.at) < DedupWindow {
		// Accepted, not delivered again (SQS FIFO exactly-once send).
		return &sqs.SendMessageOutput{MessageId: &e.id, MD5OfMessageBody: ptr(md5hex(*in.MessageBody))}, nil
	}
	q.seq++
	m := &msg{id: token(), body: *in.MessageBody, group: *in.MessageGroupId, dedup: *in.MessageDeduplicationId, seq: q.seq, sent: now}
	q.msgs = append(q.msgs, m)
	q.dedup[m.dedup] = dedupEntry{now, m.id}
	s.changed()
	return &sqs.SendMessageOutput{MessageId: &m.id, MD5OfMessageBody: ptr(md5hex(m.body)), SequenceNumber: ptr(fmt.Sprintf("%020d", m.seq))}, nil
}

func ptr[T any](v T) *T { return &v }

func (s *Server) receive(r *http.Request, in *sqs.ReceiveMessageInput) (any, *apiError) {
	maxN := int(in.MaxNumberOfMessages)
	if maxN == 0 {
		maxN = 1
	}
	if maxN < 1 || maxN > 10 {
		return nil, &apiError{400, "InvalidParameterValue", "MaxNumberOfMessages must be between 1 and 10"}
	}
	deadline := time.Now().Add(time.Duration(in.WaitTimeSeconds) * time.Second)
	for {
		s.mu.Lock()
		q, aerr := s.queue(in.QueueUrl)
		if aerr != nil {
			s.mu.Unlock()
			return nil, aerr
		}
		got := s.take(q, maxN, in.VisibilityTimeout)
		wake := s.wake
		s.mu.Unlock()
		if len(got) > 0 || !time.Now().Before(deadline) {
			return &sqs.ReceiveMessageOutput{Messages: got}, nil
		}
		t := time.NewTimer(min(time.Until(deadline), 50*time.Millisecond)) // visibility expiries wake no one: re-check
		select {
		case <-wake:
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return &sqs.ReceiveMessageOutput{}, nil
		}
		t.Stop()
	}
}

// take picks up to n messages in FIFO order. A group with a message in
// flight yields nothing; within one call a group may yield several
// consecutive messages, as SQS does.
func (s *Server) take(q *queue, n int, vis int32) []types.Message {
	now := s.Now()
	if vis == 0 {
		vis = 30
	}
	blocked := map[string]bool{}
	taken := map[string]bool{}
	var out []types.Message
	for _, m := range q.msgs {
		if len(out) == n {
			break
		}
		inFlight := m.receives > 0 && now.Before(m.visibleAt)
		if inFlight {
			blocked[m.group] = true
			continue
		}
		if blocked[m.group] && !taken[m.group] {
			continue // another message of the group is in flight
		}
		m.receives++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.visibleAt = now.Add(time.Duration(vis) * time.Second)
		m.receipt = token()
		blocked[m.group], taken[m.group] = true, true
		out = append(out, types.Message{MessageId: ptr(m.id), ReceiptHandle: ptr(m.receipt), Body: ptr(m.body), MD5OfBody: ptr(md5hex(m.body)),
			Attributes: map[string]string{
				"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
				"ApproximateReceiveCount":          strconv.Itoa(m.receives),
				"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
				"MessageGroupId":                   m.group,
				"MessageDeduplicationId":           m.dedup,
				"SequenceNumber":                   fmt.Sprintf("%020d", m.seq),
			}})
	}
	return out
}

func (s *Server) find(q *queue, receipt *string) (int, *apiError) {
	if receipt != nil {
		for i, m := range q.msgs {
			if m.receipt == *receipt {
				return i, nil
			}
		}
	}
	return -1, &apiError{400, (&types.ReceiptHandleIsInvalid{}).ErrorCode(), "The receipt handle is not valid."}
}

func (s *Server) delete(in *sqs.DeleteMessageInput) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queue(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	i, aerr := s.find(q, in.ReceiptHandle)
	if aerr != nil {
		return nil, aerr
	}
	q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
	s.changed()
	return &sqs.DeleteMessageOutput{}, nil
}

func (s *Server) changeVisibility(in *sqs.ChangeMessageVisibilityInput) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queue(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	i, aerr := s.find(q, in.ReceiptHandle)
	if aerr != nil {
		return nil, aerr
	}
	m, now := q.msgs[i], s.Now()
	if !now.Before(m.visibleAt) {
		return nil, &apiError{400, (&types.MessageNotInflight{}).ErrorCode(), "The message referred to isn't in flight."}
	}
	if in.VisibilityTimeout < 0 || in.VisibilityTimeout > 43200 {
		return nil, &apiError{400, "InvalidParameterValue", "VisibilityTimeout must be 0 to 43200 seconds"}
	}
	m.visibleAt = now.Add(time.Duration(in.VisibilityTimeout) * time.Second)
	s.changed()
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

func (s *Server) attributes(in *sqs.GetQueueAttributesInput) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queue(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	now := s.Now()
	visible, inFlight := 0, 0
	for _, m := range q.msgs {
		if m.receives > 0 && now.Before(m.visibleAt) {
			inFlight++
		} else {
			visible++
		}
	}
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inFlight),
		"FifoQueue":                             "true",
		"MaximumMessageSize":                    strconv.Itoa(MaxMessageBytes),
	}}, nil
}
