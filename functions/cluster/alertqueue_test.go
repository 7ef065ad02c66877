package cluster

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"
	sqs "github.com/upbound/provider-aws/v2/apis/namespaced/sqs/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

func withOutbox(kind string) map[string]any {
	s := base()
	s["alertBridge"] = map[string]any{"outbox": kind}
	return s
}

func alertPolicy(t *testing.T, res *compose.Result) []statement {
	t.Helper()
	r, ok := res.Resources["role-alert-bridge"].(*iam.Role)
	if !ok {
		t.Fatal("no alert-bridge role")
	}
	if len(r.Spec.ForProvider.InlinePolicy) == 0 {
		return nil
	}
	var p struct{ Statement []statement }
	if err := json.Unmarshal([]byte(*r.Spec.ForProvider.InlinePolicy[0].Policy), &p); err != nil {
		t.Fatal(err)
	}
	return p.Statement
}

func TestAlertBridgeOutbox(t *testing.T) {
	obs := observed(map[string]map[string]any{"secrets-key": {"arn": "arn:aws:kms:ap-northeast-2:123456789012:key/k"}})
	res, err := API{}.Compose(context.Background(), request(withOutbox("bbolt"), obs))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Resources["alert-bridge-queue"]; ok || alertPolicy(t, res) != nil {
		t.Fatal("the embedded outbox composed a queue or granted AWS access")
	}

	obs["alert-bridge-dead-queue"] = observed(map[string]map[string]any{"x": {"arn": "arn:aws:sqs:ap-northeast-2:123456789012:dead.fifo", "url": "https://sqs/dead.fifo"}})["x"]
	obs["alert-bridge-queue"] = observed(map[string]map[string]any{"x": {"url": "https://sqs.ap-northeast-2.amazonaws.com/123456789012/q.fifo"}})["x"]
	res, err = API{}.Compose(context.Background(), request(withOutbox("sqs"), obs))
	if err != nil {
		t.Fatal(err)
	}
	q, ok := res.Resources["alert-bridge-queue"].(*sqs.Queue)
	if !ok {
		t.Fatal("no queue")
	}
	p := q.Spec.ForProvider
	if !*p.FifoQueue || *p.ContentBasedDeduplication || *p.MaxMessageSize != 1048576 || !*p.SqsManagedSseEnabled || !strings.HasSuffix(*p.Name, ".fifo") {
		t.Fatalf("queue %+v: want FIFO, explicit dedupe ids, 1 MiB messages, encrypted", p)
	}
	rp, ok := res.Resources["alert-bridge-redrive"].(*sqs.QueueRedrivePolicy)
	if !ok || !strings.Contains(*rp.Spec.ForProvider.RedrivePolicy, "dead.fifo") {
		t.Fatal("no redrive policy to the dead-letter queue")
	}
	names := []resource.Name{"alert-bridge-dead-queue", "alert-bridge-bodies", "alert-bridge-bodies-public-access-block",
		"alert-bridge-bodies-encryption", "alert-bridge-bodies-lifecycle"}
	for _, r := range names {
		if _, ok := res.Resources[r]; !ok {
			t.Errorf("%s not composed", r)
		}
	}
	sts := alertPolicy(t, res)
	if len(sts) != 3 {
		t.Fatalf("statements %+v", sts)
	}
	for _, s := range sts {
		for _, r := range s.Resource {
			if r == "*" || strings.HasSuffix(r, ":*") {
				t.Errorf("%s grants %s on %q: not scoped to the outbox", s.Sid, s.Action, r)
			}
		}
	}
	st, _ := res.Status["alertBridge"].(map[string]any)
	if st["queueUrl"] != "https://sqs.ap-northeast-2.amazonaws.com/123456789012/q.fifo" || st["largeBodyBucket"] == "" {
		t.Fatalf("status %v", st)
	}
	if _, err := (API{}).Compose(context.Background(), request(withOutbox("kafka"), obs)); err == nil {
		t.Fatal("accepted outbox kafka")
	}
}
