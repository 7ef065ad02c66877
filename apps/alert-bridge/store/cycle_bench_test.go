package store

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// BenchmarkEnqueueDeliver is the store's share of the bridge's full path:
// 16 senders enqueue new groups while 8 deliverers claim due groups and
// record them delivered, fsync on. cpu-us/op is the process's CPU per
// webhook (GC included); senders wait once 512 groups are unclaimed, as
// when delivery keeps up, which a shared machine distorts less than
// ns/op; commit-us and ops/commit are the single writer's figures.
func BenchmarkEnqueueDeliver(b *testing.B) {
	var batches, ops atomic.Int64
	var busy atomic.Int64
	s := open(b, filepath.Join(b.TempDir(), "db"), Options{OnCommit: func(n int, took time.Duration) {
		batches.Add(1)
		ops.Add(int64(n))
		busy.Add(int64(took))
	}})
	defer s.Close()
	bodies := make([]*payload.Notification, 256)
	for i := range bodies {
		bodies[i] = notif(b, fmt.Sprint(i), "firing", 0, 1)
	}
	ctx := context.Background()
	stop := make(chan struct{})
	pending := make(chan struct{}, 512)
	var delivered atomic.Int64
	var dwg sync.WaitGroup
	for range 8 {
		dwg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-pending: // one enqueued group to claim
				}
				for {
					leases, _, err := s.Due(ctx, 1)
					if err != nil {
						b.Error(err)
						return
					}
					if len(leases) == 1 {
						if err := leases[0].Delivered(ctx); err != nil {
							b.Error(err)
							return
						}
						delivered.Add(1)
						break
					}
					runtime.Gosched() // another deliverer holds the rest
				}
			}
		})
	}
	var n atomic.Int64
	cpu0 := cpuTime()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			nn := *bodies[i%int64(len(bodies))]
			nn.GroupID = payload.GroupIDOf("b", i, "", "")
			if _, err := s.Enqueue(ctx, &nn); err != nil {
				b.Error(err)
			}
			pending <- struct{}{}
		}
	})
	b.StopTimer()
	cpu := cpuTime() - cpu0
	close(stop)
	dwg.Wait()
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "webhooks/s")
	if c := batches.Load(); c > 0 {
		b.ReportMetric(float64(busy.Load())/float64(c)/1e3, "commit-us")
		b.ReportMetric(float64(ops.Load())/float64(c), "ops/commit")
	}
	b.ReportMetric(float64(delivered.Load())/float64(b.N), "delivered/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
