package store

import (
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// BenchmarkDedupeIndexBytes reports the in-memory dedupe index's cost per
// group at the report's 217,000 groups (it was ~2.3 KB a group: string
// keys of hex digests and ids).
func BenchmarkDedupeIndexBytes(b *testing.B) {
	const groups = 217_000
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d := newDedupeIndex(1 << 30)
		for i := range groups {
			var g, k payload.Digest
			binary.BigEndian.PutUint64(g[:], uint64(i))
			binary.BigEndian.PutUint64(k[8:], uint64(i))
			d.groups[g] = ddEntry{at: int64(i), key: k, seq: uint64(i)}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/groups, "B/group")
		runtime.KeepAlive(d)
	}
}
