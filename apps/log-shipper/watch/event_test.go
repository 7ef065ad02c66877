package watch

import (
	"strings"
	"testing"
)

func TestParseMessage(t *testing.T) {
	put := `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-west-2","eventTime":"1970-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"amzn-s3-demo-bucket"},"object":{"key":"HappyFace+%281%29.jpg","size":1024}}}]}`
	cases := []struct {
		name, body string
		keys       []string
		err        string
		reason     string
	}{
		{"put", put, []string{"HappyFace (1).jpg"}, "", "the AWS doc example: '+' is a space, %28 a parenthesis"},
		{"test event", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2014-10-13T15:57:02.089Z","Bucket":"b"}`, nil, "", "sent when the notification is configured: nothing to ingest"},
		{"removal", strings.Replace(put, "ObjectCreated:Put", "ObjectRemoved:Delete", 1), nil, "", "only created objects are logs"},
		{"sns envelope", `{"Type":"Notification","Message":` + quote(put) + `}`, []string{"HappyFace (1).jpg"}, "", "bucket -> SNS -> SQS without raw delivery"},
		{"not json", "hello", nil, "not an S3 event notification", "poison message"},
		{"other service", `{"Records":[{"eventSource":"aws:sqs"}]}`, nil, "eventSource", "not S3"},
		{"no records", `{"foo":1}`, nil, "no Records", "some other JSON"},
		{"bad escape", strings.Replace(put, "HappyFace+%281%29.jpg", "%zz", 1), nil, "key", "undecodable key"},
	}
	for _, tc := range cases {
		objs, err := ParseMessage(tc.body)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q (%s)", tc.name, err, tc.err, tc.reason)
			}
			continue
		}
		if err != nil || len(objs) != len(tc.keys) {
			t.Errorf("%s: %v %+v (%s)", tc.name, err, objs, tc.reason)
			continue
		}
		for i, k := range tc.keys {
			if objs[i].Key != k || objs[i].Bucket != "amzn-s3-demo-bucket" || objs[i].Size != 1024 {
				t.Errorf("%s: %+v (%s)", tc.name, objs[i], tc.reason)
			}
		}
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func FuzzParseMessage(f *testing.F) {
	f.Add(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%20b","size":1}}}]}`)
	f.Add(`{"Type":"Notification","Message":"{\"Event\":\"s3:TestEvent\"}"}`)
	f.Add(`{"Records":[]}`)
	f.Fuzz(func(t *testing.T, body string) {
		objs, err := ParseMessage(body)
		if err != nil {
			return
		}
		for _, o := range objs {
			if o.Bucket == "" || o.Key == "" || !strings.HasPrefix(o.EventName, "ObjectCreated:") {
				t.Fatalf("accepted a malformed object %+v", o)
			}
		}
	})
}
