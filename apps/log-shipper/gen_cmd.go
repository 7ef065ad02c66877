package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/log-shipper/gen"
)

func genCmd() *cobra.Command {
	var o gen.Options
	var out, start string
	cmd := &cobra.Command{
		Use:   "gen --type X --lines N --out FILE",
		Short: "Write realistic sample logs (deterministic for a --seed; gzip when FILE ends in .gz)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := time.Parse(time.RFC3339, start)
			if err != nil {
				return fmt.Errorf("--start: %w", err)
			}
			o.Start = t
			if err := gen.WriteFile(out, o); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d %s records to %s\n", o.Lines, o.Type, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Type, "type", "alb", "alb|vpcflow|waf|cloudtrail|cloudfront|container")
	cmd.Flags().IntVar(&o.Lines, "lines", 1000, "records to write")
	cmd.Flags().Uint64Var(&o.Seed, "seed", 1, "random seed")
	cmd.Flags().StringVar(&out, "out", "", "output file")
	cmd.Flags().StringVar(&start, "start", "2026-11-28T10:00:00Z", "time of the first record")
	cmd.Flags().DurationVar(&o.Span, "span", 3*time.Hour, "records spread over this window")
	cmd.Flags().IntVar(&o.BadEvery, "bad-every", 0, "make every Nth line malformed (0: none)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
