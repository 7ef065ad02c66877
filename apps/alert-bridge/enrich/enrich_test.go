package enrich

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

func TestEvidenceURL(t *testing.T) {
	e := New(Config{LakeTemplates: map[string]string{
		"*":          "https://lake/q?alert={alertname}&from={startsAt}&status={status}",
		"DiskFull":   "https://lake/disk?fp={fingerprint}&g={groupKey}",
		"NoEvidence": "",
	}})
	n := &payload.Notification{GroupKey: `{}:{alertname="A b"}`, Status: "firing", CommonLabels: map[string]string{"alertname": "A b"},
		Alerts: []payload.Alert{{Fingerprint: "f&1", StartsAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}}
	if got, want := e.EvidenceURL(n), "https://lake/q?alert=A+b&from=2026-01-02T03%3A04%3A05Z&status=firing"; got != want {
		t.Fatalf("default template: %s want %s", got, want)
	}
	n.CommonLabels["alertname"] = "DiskFull"
	if got, want := e.EvidenceURL(n), "https://lake/disk?fp=f%261&g=%7B%7D%3A%7Balertname%3D%22A+b%22%7D"; got != want {
		t.Fatalf("per-alert template: %s want %s", got, want)
	}
	n.CommonLabels["alertname"] = "NoEvidence"
	if got := e.EvidenceURL(n); got != "" {
		t.Fatalf("empty template gave %q", got)
	}
	if got := New(Config{}).EvidenceURL(n); got != "" {
		t.Fatalf("no templates gave %q", got)
	}
}

func TestDisabledAndEmptyQuery(t *testing.T) {
	n := &payload.Notification{CommonLabels: map[string]string{"alertname": "A"}}
	if r := New(Config{}).Enrich(context.Background(), n); r.RunbookNote != "runbook lookup disabled" || r.Runbook == nil {
		t.Fatalf("disabled: %+v", r)
	}
	var skipped []string
	e := New(Config{RagURL: "http://127.0.0.1:1", OnSkip: func(r string) { skipped = append(skipped, r) }})
	if r := e.Enrich(context.Background(), &payload.Notification{}); !strings.Contains(r.RunbookNote, "no alertname") {
		t.Fatalf("empty query: %+v", r)
	}
	if r := e.Enrich(context.Background(), n); !strings.Contains(r.RunbookNote, "rag-api unavailable") || len(skipped) != 1 {
		t.Fatalf("refused: %+v %v", r, skipped)
	}
}
