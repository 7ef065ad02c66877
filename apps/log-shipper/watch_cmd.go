package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/log-shipper/lake"
	"github.com/unsilo/unsilo/apps/log-shipper/watch"
)

func watchCmd() *cobra.Command {
	var queue, out, typ, vpcFields string
	var wait, visibility time.Duration
	var untilEmpty bool
	var maxInput int64
	cmd := &cobra.Command{
		Use:   "watch --queue SQS_URL --out DIR|s3://bucket/prefix",
		Short: "Ingest S3 objects as they arrive, from the bucket's event notifications on SQS (each object exactly once)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				return fmt.Errorf("aws config: %w", err)
			}
			s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = os.Getenv("AWS_S3_PATH_STYLE") == "true" })
			store, cleanup, err := openStore(ctx, out, func() (*s3.Client, error) { return s3c, nil })
			if err != nil {
				return err
			}
			defer cleanup()
			w := &watch.Watcher{
				SQS: sqs.NewFromConfig(cfg), S3: s3c, QueueURL: queue, Wait: wait, Visibility: visibility, UntilEmpty: untilEmpty,
				Log: slog.Default(),
				Ingester: &lake.Ingester{Store: store, Source: typ, Log: slog.Default(), MaxInputBytes: maxInput,
					VPCFields: strings.FieldsFunc(vpcFields, func(r rune) bool { return r == ' ' || r == ',' })},
			}
			slog.Info("watching", "queue", queue, "lake", store.String())
			err = w.Run(ctx)
			st := w.Stats()
			// The summary, on exit (SIGTERM, or an empty queue with --until-empty).
			if jerr := json.NewEncoder(cmd.OutOrStdout()).Encode(st); jerr != nil {
				return jerr
			}
			return err
		},
	}
	cmd.Flags().StringVar(&queue, "queue", "", "SQS queue URL of the bucket's event notifications (DataLake status.ingestQueueUrl)")
	cmd.Flags().StringVar(&out, "out", "", "lake root: a directory or s3://bucket/prefix")
	cmd.Flags().StringVar(&typ, "type", "auto", "log type, or auto to detect per object")
	cmd.Flags().StringVar(&vpcFields, "vpc-fields", "", "field list of headerless VPC Flow Log objects")
	cmd.Flags().DurationVar(&wait, "wait", 20*time.Second, "long-poll time of each receive (at most 20s)")
	cmd.Flags().DurationVar(&visibility, "visibility", 5*time.Minute, "visibility timeout of received messages, extended every half of it while ingesting")
	cmd.Flags().BoolVar(&untilEmpty, "until-empty", false, "exit after a receive that returns no message (batch catch-up, tests)")
	cmd.Flags().Int64Var(&maxInput, "max-input-bytes", 0, "quarantine (whole) any object larger than this many bytes; 0 = no limit beyond the parsers'")
	_ = cmd.MarkFlagRequired("queue")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
