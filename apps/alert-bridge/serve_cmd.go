package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/alert-bridge/bridge"
)

func serveCmd(stderr io.Writer) *cobra.Command {
	c := bridge.Defaults()
	var logLevel, outboxKind string
	var sqs bridge.SQSConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Receive webhooks on --addr and deliver them to --target-url",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := envDefaults(cmd.Flags()); err != nil {
				return err
			}
			log, err := newLogger(stderr, logLevel)
			if err != nil {
				return err
			}
			switch outboxKind {
			case "bbolt":
			case "sqs":
				c.SQS = &sqs
			default:
				return errorf("--outbox %q: want bbolt or sqs", outboxKind)
			}
			return bridge.Run(cmd.Context(), c, log, nil)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address")
	fs.StringVar(&outboxKind, "outbox", "bbolt", "bbolt (embedded file, one replica) or sqs (SQS FIFO queue, several replicas)")
	fs.StringVar(&c.DB, "db", c.DB, "bbolt outbox file")
	fs.StringVar(&sqs.QueueURL, "sqs-queue-url", "", "SQS FIFO queue URL (--outbox sqs)")
	fs.StringVar(&sqs.DeadQueueURL, "sqs-dead-queue-url", "", "SQS FIFO queue for dead letters (--outbox sqs)")
	fs.StringVar(&sqs.LargeBodyBucket, "sqs-large-body-bucket", "", "S3 bucket for bodies over the SQS message limit (--outbox sqs)")
	fs.StringVar(&sqs.Region, "sqs-region", "", "AWS region (default: from the environment)")
	fs.IntVar(&sqs.MaxMessage, "sqs-max-message", 1<<20, "SQS message size limit; larger notifications go through --sqs-large-body-bucket")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.TargetURL, "target-url", "", "n8n webhook URL notifications are POSTed to (required)")
	fs.BoolVar(&c.RequireOK, "require-ok", false, "only a JSON answer with \"ok\": true is a delivery (the shipped n8n workflow answers so)")
	fs.StringArrayVar(&c.TargetHeaders, "target-header", nil, "extra header for the target, Name=value (repeatable)")
	fs.StringVar(&c.AMToken, "alertmanager-token", "", "bearer token Alertmanager must send (empty: no auth)")
	fs.StringVar(&c.GrafanaToken, "grafana-token", "", "bearer token Grafana must send in Authorization (optional)")
	fs.StringVar(&c.HMACSecret, "grafana-hmac-secret", "", "Grafana contact point hmacConfig.secret (empty: no signature check)")
	fs.StringVar(&c.HMACHeader, "grafana-signature-header", c.HMACHeader, "hmacConfig.header")
	fs.StringVar(&c.HMACTS, "grafana-timestamp-header", c.HMACTS, "hmacConfig.timestampHeader")
	fs.BoolVar(&c.HMACRequireTS, "grafana-require-timestamp", false, "reject signatures without a timestamp (replay protection)")
	fs.DurationVar(&c.HMACSkew, "grafana-max-skew", c.HMACSkew, "reject signature timestamps further than this from now")
	fs.StringVar(&c.AdminToken, "admin-token", "", "bearer token for /v1/admin/* (empty: admin routes off)")
	fs.Int64Var(&c.MaxBody, "max-body", c.MaxBody, "max webhook body in bytes (413 above)")
	fs.Int64Var(&c.MemoryBudget, "memory-budget", c.MemoryBudget, "bytes of webhook bodies held in memory across requests and deliveries (>= 3x --max-body)")
	fs.Int64Var(&c.MemoryLimit, "memory-limit", 0, "Go soft memory limit in bytes unless GOMEMLIMIT is set (0: none)")
	fs.IntVar(&c.MaxInFlight, "max-in-flight", c.MaxInFlight, "concurrent authenticated webhook requests; beyond: 503 + Retry-After")
	fs.DurationVar(&c.DedupeWindow, "dedupe-window", c.DedupeWindow, "a group's repeated identical notification within this is a duplicate")
	fs.IntVar(&c.DedupeMaxGroups, "dedupe-max-groups", c.DedupeMaxGroups, "groups the dedupe index remembers (about 100 bytes each)")
	fs.IntVar(&c.Workers, "workers", c.Workers, "concurrent deliveries")
	fs.DurationVar(&c.BackoffBase, "backoff-base", c.BackoffBase, "first retry delay ceiling (full jitter)")
	fs.DurationVar(&c.BackoffMax, "backoff-max", c.BackoffMax, "retry delay ceiling")
	fs.DurationVar(&c.ProbeMax, "probe-max", c.ProbeMax, "longest wait between probes of a target that is down")
	fs.DurationVar(&c.MaxAge, "max-age", c.MaxAge, "park as dead letter after failing this long")
	fs.DurationVar(&c.DeadRetention, "dead-retention", c.DeadRetention, "delete dead letters parked longer than this (0: keep)")
	fs.DurationVar(&c.AttemptTimeout, "attempt-timeout", c.AttemptTimeout, "one delivery attempt")
	fs.StringVar(&c.RagURL, "rag-url", "", "rag-api base URL for runbook passages (empty: off)")
	fs.StringVar(&c.RagToken, "rag-token", "", "bearer token for rag-api (optional)")
	fs.DurationVar(&c.RagTimeout, "rag-timeout", c.RagTimeout, "runbook lookup timeout")
	fs.StringVar(&c.LakeTemplate, "lake-url-template", "", "evidence link template, e.g. https://lake/q?alert={alertname}&from={startsAt}")
	fs.StringVar(&c.LakeTemplatesFile, "lake-url-templates", "", "JSON file {alertname: template, \"*\": default}")
	fs.DurationVar(&c.DeadmanAfter, "deadman-after", 0, "raise AlertBridgeDeadMansSwitch when no Watchdog arrived for this long (0: off)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "grace period for in-flight requests")
	fs.IntVar(&c.GCPercent, "gc-percent", c.GCPercent, "GC target percentage unless GOGC is set (fewer GCs leave CPU for requests)")
	return cmd
}
