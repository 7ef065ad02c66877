// Package metrics holds alert-bridge's Prometheus collectors.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are registered on one registry per process (no global state).
type Metrics struct {
	Received        *prometheus.CounterVec // source
	Rejected        *prometheus.CounterVec // source, reason
	Deduped         *prometheus.CounterVec // source
	Delivered       prometheus.Counter
	Retries         prometheus.Counter
	Dead            prometheus.Counter
	Replayed        prometheus.Counter
	EnrichSkipped   *prometheus.CounterVec // reason
	AckLatency      *prometheus.HistogramVec
	DeliveryLatency prometheus.Histogram
	AttemptLatency  prometheus.Histogram
	CommitBatch     prometheus.Histogram
	CommitLatency   prometheus.Histogram
	StoreErrors     *prometheus.CounterVec // op
	Superseded      prometheus.Counter
	Heartbeats      prometheus.Counter
	BudgetWaits     *prometheus.CounterVec // outcome
}

// Gauges reads live values for the gauge functions.
type Gauges struct {
	OutboxDepth func() float64
	DeadLetters func() float64
	// StoreHealthy is 1 while the outbox records writes, 0 while it fails.
	StoreHealthy func() float64
	// BreakerOpen is 1 while the target is considered down.
	BreakerOpen func() float64
	// BudgetInUse is the bytes of bodies held in memory.
	BudgetInUse func() float64
	// LastHeartbeat is the Unix time of the last Watchdog received.
	LastHeartbeat func() float64
}

var ackBuckets = []float64{.0005, .001, .002, .003, .005, .0075, .01, .015, .025, .05, .1, .25, .5, 1, 2.5}

// New creates and registers the collectors on reg.
func New(reg prometheus.Registerer, g Gauges) *Metrics {
	m := &Metrics{
		Received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alert_bridge_received_total",
			Help: "Webhooks accepted and stored (duplicates excluded), by source."}, []string{"source"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alert_bridge_rejected_total",
			Help: "Webhooks rejected, by source and reason (auth, decode, too_large, store)."}, []string{"source", "reason"}),
		Deduped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alert_bridge_deduped_total",
			Help: "Webhooks acknowledged as duplicates of a stored notification, by source."}, []string{"source"}),
		Delivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "alert_bridge_delivered_total",
			Help: "Notifications delivered to the target."}),
		Retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "alert_bridge_delivery_retries_total",
			Help: "Failed delivery attempts that were rescheduled."}),
		Dead: prometheus.NewCounter(prometheus.CounterOpts{Name: "alert_bridge_dead_letters_total",
			Help: "Notifications parked as dead letters after the max age."}),
		Replayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "alert_bridge_replayed_total",
			Help: "Dead letters re-queued by replay."}),
		EnrichSkipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alert_bridge_enrich_skipped_total",
			Help: "Runbook lookups skipped, by reason."}, []string{"reason"}),
		AckLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "alert_bridge_ack_seconds",
			Help: "Time from request start to the durable acknowledgement.", Buckets: ackBuckets}, []string{"source"}),
		DeliveryLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "alert_bridge_delivery_seconds",
			Help: "Time from receipt to successful delivery.", Buckets: prometheus.ExponentialBuckets(0.005, 4, 10)}),
		AttemptLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "alert_bridge_delivery_attempt_seconds",
			Help: "Duration of one delivery attempt (enrichment + HTTP).", Buckets: prometheus.DefBuckets}),
		CommitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "alert_bridge_store_commit_batch_size",
			Help: "Requests per group commit.", Buckets: prometheus.ExponentialBuckets(1, 2, 11)}),
		CommitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "alert_bridge_store_commit_seconds",
			Help: "Duration of one fsync'd group commit.", Buckets: ackBuckets}),
		StoreErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alert_bridge_store_errors_total",
			Help: "Outbox writes that failed (disk full, I/O error), by operation."}, []string{"op"}),
		Superseded: prometheus.NewCounter(prometheus.CounterOpts{Name: "alert_bridge_superseded_total",
			Help: "Pending states of a group replaced by a newer state before they were sent."}),
		Heartbeats: prometheus.NewCounter(prometheus.CounterOpts{Name: "alert_bridge_heartbeats_total",
			Help: "Watchdog notifications received (the dead-man's switch's input)."}),
		BudgetWaits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alert_bridge_memory_budget_waits_total",
			Help: "Webhooks that waited for the body memory budget, by outcome (admitted, rejected)."}, []string{"outcome"}),
	}
	reg.MustRegister(m.StoreErrors, m.Superseded, m.Heartbeats, m.BudgetWaits)
	reg.MustRegister(m.Received, m.Rejected, m.Deduped, m.Delivered, m.Retries, m.Dead, m.Replayed,
		m.EnrichSkipped, m.AckLatency, m.DeliveryLatency, m.AttemptLatency, m.CommitBatch, m.CommitLatency)
	if g.OutboxDepth != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "alert_bridge_outbox_depth",
			Help: "Notifications waiting for delivery."}, g.OutboxDepth))
	}
	if g.DeadLetters != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "alert_bridge_dead_letters",
			Help: "Dead letters currently parked."}, g.DeadLetters))
	}
	for name, f := range map[string]struct {
		help string
		fn   func() float64
	}{
		"alert_bridge_store_healthy":                    {"1 while the outbox records writes, 0 while its commits fail.", g.StoreHealthy},
		"alert_bridge_breaker_open":                     {"1 while the target is considered down and only probes are sent.", g.BreakerOpen},
		"alert_bridge_memory_budget_bytes":              {"Bytes of webhook bodies held in memory (requests and deliveries).", g.BudgetInUse},
		"alert_bridge_last_heartbeat_timestamp_seconds": {"Unix time of the last Watchdog notification received.", g.LastHeartbeat},
	} {
		if f.fn != nil {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: f.help}, f.fn))
		}
	}
	return m
}
