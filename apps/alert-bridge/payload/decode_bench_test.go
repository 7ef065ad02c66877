package payload_test

import (
	"fmt"
	"testing"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// BenchmarkDecode is the decoder's share of a webhook's CPU: one small
// notification (the load harness's) and a ~1 MiB group, per sender.
func BenchmarkDecode(b *testing.B) {
	for _, src := range []string{"alertmanager", "grafana"} {
		decode := payload.DecodeAlertmanager
		if src == "grafana" {
			decode = payload.DecodeGrafana
		}
		for _, alerts := range []int{1, 1000} {
			body := loadgen.Body(loadgen.Spec{Source: src, Group: "bench", Alerts: alerts})
			b.Run(fmt.Sprintf("%s/alerts=%d", src, alerts), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := decode(body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
