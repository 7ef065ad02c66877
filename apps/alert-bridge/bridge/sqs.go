package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/unsilo/unsilo/apps/alert-bridge/membudget"
	"github.com/unsilo/unsilo/apps/alert-bridge/metrics"
	"github.com/unsilo/unsilo/apps/alert-bridge/sqsbox"
)

// openSQS builds the SQS FIFO outbox with the default AWS credential
// chain (EKS Pod Identity in the cluster).
func openSQS(ctx context.Context, c Config, budget *membudget.Budget, _ func() *metrics.Metrics) (queue, error) {
	var opts []func(*config.LoadOptions) error
	if c.SQS.Region != "" {
		opts = append(opts, config.WithRegion(c.SQS.Region))
	}
	awscfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	sq := sqs.NewFromConfig(awscfg, func(o *sqs.Options) {
		if c.SQS.Endpoint != "" {
			o.BaseEndpoint = &c.SQS.Endpoint
		}
	})
	var s3c *s3.Client
	if c.SQS.LargeBodyBucket != "" {
		s3c = s3.NewFromConfig(awscfg, func(o *s3.Options) {
			if c.SQS.S3Endpoint != "" {
				o.BaseEndpoint, o.UsePathStyle = &c.SQS.S3Endpoint, true
			}
		})
	}
	return sqsbox.Open(ctx, sqsbox.Config{SQS: sq, QueueURL: c.SQS.QueueURL, DeadQueueURL: c.SQS.DeadQueueURL, S3: s3c,
		Bucket: c.SQS.LargeBodyBucket, MaxMessage: c.SQS.MaxMessage, Budget: budget, Visibility: c.AttemptTimeout + 90*time.Second})
}
