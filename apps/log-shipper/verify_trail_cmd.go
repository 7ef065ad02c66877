package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/log-shipper/ctdigest"
)

func verifyTrailCmd() *cobra.Command {
	var bucket, prefix, keysFile string
	cmd := &cobra.Command{
		Use:   "verify-trail --bucket RAW_BUCKET --prefix cloudtrail/AWSLogs/ACCOUNT/ --public-keys keys.json",
		Short: "Validate CloudTrail digests (signatures, chain) and the log files they list; exits 1 on any finding",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			kb, err := os.ReadFile(keysFile)
			if err != nil {
				return fmt.Errorf("public keys: %w", err)
			}
			keys, err := ctdigest.ParseKeys(kb)
			if err != nil {
				return err
			}
			cfg, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				return fmt.Errorf("aws config: %w", err)
			}
			c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = os.Getenv("AWS_S3_PATH_STYLE") == "true" })
			rep, err := ctdigest.Validate(ctx, ctdigest.S3Source{Client: c}, keys, bucket, strings.TrimPrefix(prefix, "/"))
			if err != nil {
				return err
			}
			if err := json.NewEncoder(cmd.OutOrStdout()).Encode(rep); err != nil {
				return err
			}
			if len(rep.Problems) > 0 {
				return fmt.Errorf("%d integrity findings in %d digests and %d log files", len(rep.Problems), rep.Digests, rep.LogFiles)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&bucket, "bucket", "", "the trail's bucket (DataLake status.rawBucket)")
	cmd.Flags().StringVar(&prefix, "prefix", "cloudtrail/AWSLogs/", "key prefix holding the CloudTrail-Digest/ objects")
	cmd.Flags().StringVar(&keysFile, "public-keys", "", "output of `aws cloudtrail list-public-keys --start-time ... --end-time ...` for the period")
	_ = cmd.MarkFlagRequired("bucket")
	_ = cmd.MarkFlagRequired("public-keys")
	return cmd
}
