package cluster

import (
	"slices"
	"testing"
)

// TestLogShipperQueueAndKey: watch's queue calls are granted on the lake's
// ingest queue only, and the SSE-KMS key is used either by its ARN or,
// when the environment cannot name it, only through S3 and SQS.
func TestLogShipperQueueAndKey(t *testing.T) {
	const queue = "arn:aws:sqs:ap-northeast-2:123456789012:unsilo-prod-ingest"
	const key = "arn:aws:kms:ap-northeast-2:123456789012:key/k"
	cases := map[string]struct {
		reason      string
		w           Workloads
		wantSids    []string
		wantViaSvcs []string
	}{
		"QueueAndKey":  {"the named key covers the queue too", Workloads{IngestQueueARN: queue, LakeKeyARN: key}, []string{"ConsumeIngestQueue", "UseLakeKey"}, nil},
		"QueueNoKey":   {"settings cannot name the key: via S3 and SQS only", Workloads{IngestQueueARN: queue}, []string{"ConsumeIngestQueue", "UseLakeKeyViaS3AndSQS"}, []string{"s3.ap-northeast-2.amazonaws.com", "sqs.ap-northeast-2.amazonaws.com"}},
		"BucketsNoKey": {"SSE-KMS objects need the key even without watch", Workloads{LakeBucketARN: "arn:aws:s3:::raw"}, []string{"ReadRawLogs", "UseLakeKeyViaS3AndSQS"}, []string{"s3.ap-northeast-2.amazonaws.com", "sqs.ap-northeast-2.amazonaws.com"}},
		"Nothing":      {"no lake: no grant at all", Workloads{}, nil, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			st := logShipper(tc.w, "ap-northeast-2", "123456789012")
			var sids []string
			for _, s := range st {
				sids = append(sids, s.Sid)
				switch s.Sid {
				case "ConsumeIngestQueue":
					if !slices.Equal(s.Action, []string{"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"}) || !slices.Equal(s.Resource, []string{queue}) {
						t.Errorf("%s: queue grant %v on %v", tc.reason, s.Action, s.Resource)
					}
				case "UseLakeKey":
					if !slices.Equal(s.Resource, []string{key}) || s.Condition != nil {
						t.Errorf("%s: key grant on %v %v", tc.reason, s.Resource, s.Condition)
					}
				case "UseLakeKeyViaS3AndSQS":
					via, _ := s.Condition["StringEquals"]["kms:ViaService"].([]string)
					if !slices.Equal(via, tc.wantViaSvcs) || !slices.Equal(s.Resource, []string{"arn:aws:kms:ap-northeast-2:123456789012:key/*"}) {
						t.Errorf("%s: via %v on %v", tc.reason, via, s.Resource)
					}
				}
			}
			if !slices.Equal(sids, tc.wantSids) {
				t.Errorf("%s: statements %v, want %v", tc.reason, sids, tc.wantSids)
			}
		})
	}
}
