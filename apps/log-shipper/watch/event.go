// Package watch ingests S3 objects as they arrive: it consumes the bucket's
// event notifications from SQS, ingests each created object (one Delta
// commit per object, idempotent per object version) and deletes a message
// only once every object it names is committed. A crash at any point either
// leaves the message to be delivered again (and the recommit of an object
// already in the table is a no-op) or has nothing left to do, so every
// object lands exactly once; messages that keep failing go to the queue's
// dead-letter queue by its redrive policy.
package watch

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Object is one created S3 object named by a notification.
type Object struct {
	Bucket    string
	Key       string // decoded
	Size      int64
	EventTime time.Time
	EventName string
}

// URI is s3://bucket/key, the object's input name in the lake.
func (o Object) URI() string { return "s3://" + o.Bucket + "/" + o.Key }

type s3Event struct {
	Records []struct {
		EventSource string `json:"eventSource"`
		EventName   string `json:"eventName"`
		EventTime   string `json:"eventTime"`
		S3          struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key  string `json:"key"`
				Size int64  `json:"size"`
			} `json:"object"`
		} `json:"s3"`
	} `json:"Records"`
	Event string `json:"Event"` // "s3:TestEvent" when the notification is set up
	// SNS envelope (bucket -> SNS topic -> SQS without raw delivery).
	Type    string `json:"Type"`
	Message string `json:"Message"`
}

// ParseMessage returns the created objects a message body names. A test
// event (sent when the notification is configured) names none. Other event
// kinds (removals, restores) are ignored: only created objects are logs to
// ingest. An error means the body is no S3 notification at all.
func ParseMessage(body string) ([]Object, error) {
	var ev s3Event
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		return nil, fmt.Errorf("not an S3 event notification: %w", err)
	}
	if ev.Type == "Notification" && ev.Message != "" {
		return ParseMessage(ev.Message)
	}
	if ev.Event == "s3:TestEvent" {
		return nil, nil
	}
	if ev.Records == nil {
		return nil, fmt.Errorf("not an S3 event notification: no Records")
	}
	var out []Object
	for i, r := range ev.Records {
		if r.EventSource != "aws:s3" {
			return nil, fmt.Errorf("record %d: eventSource %q, want aws:s3", i, r.EventSource)
		}
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		// Keys are URL-encoded in notifications, spaces as '+'.
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			return nil, fmt.Errorf("record %d: key %q: %w", i, r.S3.Object.Key, err)
		}
		if r.S3.Bucket.Name == "" || key == "" {
			return nil, fmt.Errorf("record %d: bucket or key missing", i)
		}
		t, _ := time.Parse(time.RFC3339Nano, r.EventTime) // zero when absent: lag is then unknown
		out = append(out, Object{Bucket: r.S3.Bucket.Name, Key: key, Size: r.S3.Object.Size, EventTime: t, EventName: r.EventName})
	}
	return out, nil
}
