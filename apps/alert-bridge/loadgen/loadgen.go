// Package loadgen builds synthetic Alertmanager and Grafana webhook
// bodies shaped like real ones (kube-prometheus label sets, Grafana's
// per-alert extras), for the load harness, benchmarks and tests that need
// many or large notifications.
package loadgen

import (
	"bytes"
	"fmt"
	"time"
)

// Spec describes one webhook body.
type Spec struct {
	Source   string // "alertmanager" (default) or "grafana"
	Group    string // group key
	Status   string // "firing" (default) or "resolved"
	Alerts   int    // alerts in the body; default 1
	StartsAt time.Time
	// Episode varies the alerts' startsAt so repeated bodies of one group
	// are distinct firing episodes.
	Episode int
}

// Path is the bridge endpoint for the spec's source.
func (s Spec) Path() string {
	if s.Source == "grafana" {
		return "/v1/grafana"
	}
	return "/v1/alertmanager"
}

// Body renders the webhook JSON. A kube-prometheus-like alert is about
// 1.1 KB, so Alerts=1000 gives a body of about 1.1 MB.
func Body(s Spec) []byte {
	if s.Alerts <= 0 {
		s.Alerts = 1
	}
	if s.Status == "" {
		s.Status = "firing"
	}
	if s.StartsAt.IsZero() {
		s.StartsAt = time.Date(2026, 11, 28, 21, 14, 7, 0, time.UTC)
	}
	starts := s.StartsAt.Add(time.Duration(s.Episode) * time.Minute).UTC().Format(time.RFC3339Nano)
	ends := "0001-01-01T00:00:00Z"
	if s.Status == "resolved" {
		ends = s.StartsAt.Add(time.Duration(s.Episode)*time.Minute + 10*time.Minute).UTC().Format(time.RFC3339Nano)
	}
	version := "4"
	if s.Source == "grafana" {
		version = "1"
	}
	var b bytes.Buffer
	b.Grow(s.Alerts*1200 + 1024)
	fmt.Fprintf(&b, `{"receiver":"alert-bridge","status":%q,"alerts":[`, s.Status)
	for i := range s.Alerts {
		if i > 0 {
			b.WriteByte(',')
		}
		pod := fmt.Sprintf("api-%08x-%05d", hash(s.Group), i)
		fmt.Fprintf(&b, `{"status":%q,"labels":{"alertname":"KubePodCrashLooping","container":"api","endpoint":"http","instance":"10.0.%d.%d:8080",`+
			`"job":"kube-state-metrics","namespace":"payments","pod":%q,"service":"kube-prometheus-stack-kube-state-metrics","severity":"critical","team":"payments","uid":"%08x-%04x"},`+
			`"annotations":{"description":"Pod payments/%s (api) is in waiting state (reason: \"CrashLoopBackOff\").",`+
			`"runbook_url":"https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping","summary":"Pod is crash looping."},`+
			`"startsAt":%q,"endsAt":%q,`+
			`"generatorURL":"http://prometheus.monitoring:9090/graph?g0.expr=max_over_time%%28kube_pod_container_status_waiting_reason%%7Breason%%3D%%22CrashLoopBackOff%%22%%7D%%5B5m%%5D%%29+%%3E%%3D+1&g0.tab=1",`+
			`"fingerprint":"%016x"`,
			s.Status, i/250, i%250, pod, hash(s.Group), i, pod, starts, ends, hash(s.Group)^uint32hash(i))
		if s.Source == "grafana" {
			fmt.Fprintf(&b, `,"silenceURL":"http://grafana/alerting/silence/new?matcher=pod%%3D%s","dashboardURL":"http://grafana/d/x","panelURL":"http://grafana/d/x?viewPanel=2",`+
				`"orgId":1,"values":{"A":%d,"B":1},"valueString":"[ var='A' value=%d ]","imageURL":"http://grafana/img/%d.png"`, pod, i, i, i)
		}
		b.WriteByte('}')
	}
	fmt.Fprintf(&b, `],"groupLabels":{"alertname":"KubePodCrashLooping","namespace":"payments"},`+
		`"commonLabels":{"alertname":"KubePodCrashLooping","container":"api","namespace":"payments","severity":"critical","team":"payments"},`+
		`"commonAnnotations":{"summary":"Pod is crash looping."},"externalURL":"http://alertmanager.monitoring:9093",`+
		`"version":%q,"groupKey":%q,"truncatedAlerts":0`, version, s.Group)
	if s.Source == "grafana" {
		b.WriteString(`,"orgId":1,"state":"alerting","title":"[FIRING] KubePodCrashLooping","message":"**Firing**"`)
	} else {
		b.WriteString(`,"notification_reason":"new_alerts"`)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func hash(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func uint32hash(i int) uint64 { return uint64(i) * 0x9E3779B97F4A7C15 }
