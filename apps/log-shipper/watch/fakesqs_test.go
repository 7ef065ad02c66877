package watch

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// fakeSQS is a queue with a redrive policy, served over SQS's AWS JSON 1.0
// protocol (X-Amz-Target: AmazonSQS.<Operation>), so the real SDK client
// talks to it. A received message stays hidden until it is deleted or the
// test calls expire (the visibility timeout running out).
type fakeSQS struct {
	mu         sync.Mutex
	msgs       []*fakeMsg
	dlq        []*fakeMsg
	maxReceive int
	seq        int
	throttle   int  // fail the next n receives with RequestThrottled
	failDelete bool // DeleteMessageBatch answers 500 (a crash before delete)
	extended   chan struct{}
	deletes    int
}

type fakeMsg struct {
	id, body, receipt string
	hidden            bool
	receives          int
}

func newFakeSQS(t testing.TB, maxReceive int) (*fakeSQS, *sqs.Client) {
	f := &fakeSQS{maxReceive: maxReceive, extended: make(chan struct{}, 100)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := sqs.New(sqs.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	return f, c
}

func (f *fakeSQS) send(body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	f.msgs = append(f.msgs, &fakeMsg{id: fmt.Sprintf("m-%d", f.seq), body: body})
}

// expire makes every received, undeleted message visible again.
func (f *fakeSQS) expire() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.msgs {
		m.hidden = false
	}
}

func (f *fakeSQS) counts() (queued, dlq int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.msgs), len(f.dlq)
}

func (f *fakeSQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	var in map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(w, 400, "InvalidParameterValue", err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out any
	switch op {
	case "ReceiveMessage":
		if f.throttle > 0 {
			f.throttle--
			fail(w, 400, "RequestThrottled", "Rate exceeded")
			return
		}
		var max int
		json.Unmarshal(in["MaxNumberOfMessages"], &max)
		var got []map[string]any
		var keep []*fakeMsg
		for _, m := range f.msgs {
			if m.hidden || len(got) >= max {
				keep = append(keep, m)
				continue
			}
			if m.receives >= f.maxReceive { // redrive policy
				f.dlq = append(f.dlq, m)
				continue
			}
			m.receives++
			m.hidden = true
			m.receipt = fmt.Sprintf("%s-r%d", m.id, m.receives)
			sum := md5.Sum([]byte(m.body))
			got = append(got, map[string]any{"MessageId": m.id, "ReceiptHandle": m.receipt, "Body": m.body,
				"MD5OfBody": hex.EncodeToString(sum[:]), "Attributes": map[string]string{"ApproximateReceiveCount": fmt.Sprint(m.receives)}})
			keep = append(keep, m)
		}
		f.msgs = keep
		out = map[string]any{"Messages": got}
	case "DeleteMessageBatch":
		if f.failDelete {
			fail(w, 500, "InternalError", "crash")
			return
		}
		var entries []struct{ Id, ReceiptHandle string }
		json.Unmarshal(in["Entries"], &entries)
		var ok []map[string]string
		for _, e := range entries {
			for i, m := range f.msgs {
				if m.receipt == e.ReceiptHandle {
					f.msgs = append(f.msgs[:i], f.msgs[i+1:]...)
					ok = append(ok, map[string]string{"Id": e.Id})
					f.deletes++
					break
				}
			}
		}
		out = map[string]any{"Successful": ok, "Failed": []any{}}
	case "ChangeMessageVisibilityBatch":
		var entries []struct{ Id string }
		json.Unmarshal(in["Entries"], &entries)
		var ok []map[string]string
		for _, e := range entries {
			ok = append(ok, map[string]string{"Id": e.Id})
		}
		select {
		case f.extended <- struct{}{}:
		default:
		}
		out = map[string]any{"Successful": ok, "Failed": []any{}}
	default:
		fail(w, 400, "InvalidAction", op)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	json.NewEncoder(w).Encode(out)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-query-error", code+";Sender")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + code, "message": msg})
}
