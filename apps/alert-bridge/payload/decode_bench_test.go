package payload

import (
	"fmt"
	"testing"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
)

// BenchmarkDecode is the decoder's share of a webhook's CPU: one small
// notification (the load harness's) and a ~1 MiB group, per sender, by
// the one-pass decoder and by encoding/json (json.Unmarshal into
// Alertmanager's types, the alerts streamed: the reference decoder of
// reference_test.go, which the bridge used before).
func BenchmarkDecode(b *testing.B) {
	for _, src := range []string{"alertmanager", "grafana"} {
		decoders := map[string]func([]byte) (*Notification, error){"one-pass": DecodeAlertmanager, "encoding-json": refDecodeAlertmanager}
		if src == "grafana" {
			decoders = map[string]func([]byte) (*Notification, error){"one-pass": DecodeGrafana, "encoding-json": refDecodeGrafana}
		}
		for _, alerts := range []int{1, 1000} {
			body := loadgen.Body(loadgen.Spec{Source: src, Group: "bench", Alerts: alerts})
			for _, name := range []string{"one-pass", "encoding-json"} {
				b.Run(fmt.Sprintf("%s/alerts=%d/%s", src, alerts, name), func(b *testing.B) {
					b.SetBytes(int64(len(body)))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := decoders[name](body); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
