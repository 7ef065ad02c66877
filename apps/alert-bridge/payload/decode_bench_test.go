package payload

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
)

// BenchmarkDecode is the decoder's share of a webhook's CPU: one small
// notification (the load harness's) and a ~1 MiB group, per sender, by
// the bridge's decoder (json/v2) and by encoding/json (json.Unmarshal into
// Alertmanager's types, the alerts streamed: the reference decoder of
// reference_test.go).
func BenchmarkDecode(b *testing.B) {
	for _, src := range []string{"alertmanager", "grafana"} {
		decoders := map[string]func([]byte) (*Notification, error){"json-v2": DecodeAlertmanager, "encoding-json": refDecodeAlertmanager}
		if src == "grafana" {
			decoders = map[string]func([]byte) (*Notification, error){"json-v2": DecodeGrafana, "encoding-json": refDecodeGrafana}
		}
		for _, alerts := range []int{1, 1000} {
			body := loadgen.Body(loadgen.Spec{Source: src, Group: "bench", Alerts: alerts})
			for _, name := range []string{"json-v2", "encoding-json"} {
				b.Run(fmt.Sprintf("%s/alerts=%d/%s", src, alerts, name), func(b *testing.B) {
					b.SetBytes(int64(len(body)))
					b.ReportAllocs()
					cpu0 := processCPU(b)
					for b.Loop() {
						if _, err := decoders[name](body); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
				})
			}
		}
	}
}

// processCPU is the process's user+system CPU time (GC included): on a
// shared machine ns/op follows the neighbours, cpu-ns/op far less.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
