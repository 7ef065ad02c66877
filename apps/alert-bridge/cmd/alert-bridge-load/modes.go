package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/auth"
	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
)

// sender posts webhooks like Alertmanager (bearer) and Grafana (HMAC with
// timestamp) do, half each; every goroutine posting owns one connection.
type sender struct{ addr string }

func newSender(addr string) *sender { return &sender{addr: addr} }

func (s *sender) conn() *conn { return &conn{addr: s.addr} }

func (s *sender) post(ctx context.Context, k *conn, spec loadgen.Spec) (int, time.Duration, error) {
	body := loadgen.Body(spec)
	hdrs := []header{{"Content-Type", "application/json"}}
	if spec.Source == "grafana" {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		hdrs = append(hdrs, header{auth.DefaultTimestampHeader, ts}, header{auth.DefaultSignatureHeader, auth.Sign(hmacSecret, ts, body)})
	} else {
		hdrs = append(hdrs, header{"Authorization", "Bearer " + amToken})
	}
	t0 := time.Now()
	code, err := k.do(ctx, spec.Path(), hdrs, body)
	return code, time.Since(t0), err
}

func source(n int64) string { return []string{"alertmanager", "grafana"}[n%2] }

func throughput(ctx context.Context, c config, b *bridge, rcv *receiver) (result, error) {
	s := newSender(b.addr)
	var seq, errs atomic.Int64
	var measuring atomic.Bool
	lat := make([][]time.Duration, c.concurrency)
	deadline := time.Now().Add(c.warmup + c.duration)
	var wg sync.WaitGroup
	for w := range c.concurrency {
		wg.Go(func() {
			k := s.conn()
			defer k.close()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				n := seq.Add(1)
				code, d, err := s.post(ctx, k, loadgen.Spec{Source: source(n), Group: "load-" + strconv.FormatInt(n, 10), Alerts: c.alerts})
				if !measuring.Load() {
					continue
				}
				if err != nil || code != http.StatusOK {
					errs.Add(1)
					continue
				}
				lat[w] = append(lat[w], d)
			}
		})
	}
	time.Sleep(c.warmup)
	before := rcv.delivered.Load()
	measuring.Store(true)
	n0, ops0, busy0, err := b.commits()
	if err != nil {
		return nil, err
	}
	t0, cpu0, self0 := time.Now(), b.cpu(), selfCPU()
	wg.Wait()
	el, cpu, self := time.Since(t0).Seconds(), b.cpu()-cpu0, selfCPU()-self0
	measuring.Store(false)
	n1, ops1, busy1, err := b.commits()
	if err != nil {
		return nil, err
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	_, peak := b.rss()
	return result{"webhooks": len(all), "webhooksPerSecond": round(float64(len(all)) / el), "errors": errs.Load(),
		"ackP50ms": pct(all, .5), "ackP99ms": pct(all, .99), "ackMaxMs": pct(all, 1), "seconds": round(el),
		"deliveredDuringRun": rcv.delivered.Load() - before, "concurrency": c.concurrency, "alertsPerWebhook": c.alerts,
		"peakRSSMiB": peak >> 20, "bridgeCPUSeconds": round(cpu.Seconds()),
		"bridgeCPUPerWebhookUs":  round(float64(cpu.Microseconds()) / float64(max(1, len(all)))),
		"harnessCPUPerWebhookUs": round(float64(self.Microseconds()) / float64(max(1, len(all)))),
		"storeWriterBusy":        round((busy1 - busy0) / el), "storeOpsPerCommit": round((ops1 - ops0) / max(1, n1-n0)),
		"storeCommitMeanMs": round(1000 * (busy1 - busy0) / max(1, n1-n0))}, nil
}

// drain: the receiver is down while backlog webhooks arrive (each a new
// group); then it recovers, and the time until the outbox is empty is
// the figure.
func drain(ctx context.Context, c config, b *bridge, rcv *receiver) (result, error) {
	rcv.down.Store(true)
	s := newSender(b.addr)
	next := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range c.concurrency {
		wg.Go(func() {
			k := s.conn()
			defer k.close()
			for i := range next {
				if code, _, err := s.post(ctx, k, loadgen.Spec{Source: source(int64(i)), Group: fmt.Sprint("drain-", i), Alerts: c.alerts}); err != nil || code != 200 {
					failed.Add(1)
				}
			}
		})
	}
	for i := range c.backlog {
		next <- i
	}
	close(next)
	wg.Wait()
	if failed.Load() > 0 {
		return nil, fmt.Errorf("%d webhooks not acknowledged", failed.Load())
	}
	time.Sleep(10 * time.Second) // down for a while: backoff and breaker in play
	refused := rcv.refused.Load()
	rcv.down.Store(false)
	t0 := time.Now()
	for {
		d, err := b.depth()
		if err != nil {
			return nil, err
		}
		if d == 0 {
			break
		}
		if time.Since(t0) > 10*time.Minute {
			return nil, fmt.Errorf("backlog not drained after 10 minutes (%d left)", d)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	return result{"backlog": c.backlog, "drainSeconds": round(time.Since(t0).Seconds()), "postsWhileDown10s": refused,
		"delivered": rcv.delivered.Load()}, nil
}

// memory: concurrent senders post large bodies for the duration while the
// bridge's RSS is sampled.
func memory(ctx context.Context, c config, b *bridge, rcv *receiver) (result, error) {
	s := newSender(b.addr)
	var seq, ok, busy, other atomic.Int64
	var maxRSS, maxAnon atomic.Int64
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				cur, _, anon := b.rssParts()
				if cur > maxRSS.Load() {
					maxRSS.Store(cur)
				}
				if anon > maxAnon.Load() {
					maxAnon.Store(anon)
				}
			}
		}
	}()
	deadline := time.Now().Add(c.duration)
	bodyBytes := len(loadgen.Body(loadgen.Spec{Group: "size", Alerts: c.alerts}))
	var wg sync.WaitGroup
	for range c.concurrency {
		wg.Go(func() {
			k := s.conn()
			defer k.close()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				n := seq.Add(1)
				code, _, err := s.post(ctx, k, loadgen.Spec{Group: fmt.Sprint("mem-", n), Alerts: c.alerts})
				switch {
				case err == nil && code == 200:
					ok.Add(1)
				case err == nil && code == 503:
					busy.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	_, peak := b.rss()
	return result{"concurrency": c.concurrency, "bodyBytes": bodyBytes, "accepted": ok.Load(), "retryLater503": busy.Load(),
		"failed": other.Load(), "maxSampledRSSMiB": maxRSS.Load() >> 20, "maxSampledAnonRSSMiB": maxAnon.Load() >> 20, "peakRSSMiB(VmHWM)": peak >> 20,
		"delivered": rcv.delivered.Load()}, nil
}

func round(f float64) float64 { return float64(int64(f*100)) / 100 }
