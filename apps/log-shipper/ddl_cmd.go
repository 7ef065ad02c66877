package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

func ddlCmd() *cobra.Command {
	var location, database, source string
	cmd := &cobra.Command{
		Use:   "ddl",
		Short: "Print the Athena statements that register the lake's Delta tables",
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range schema.Sources() {
				if source != "" && s.Name != source {
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), schema.DDL(s, database, location))
			}
			if source != "" {
				if _, err := schema.Lookup(source); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&location, "location", "s3://my-log-lake/lake", "lake root (the --out of ingest)")
	cmd.Flags().StringVar(&database, "database", "logs", "Glue database")
	cmd.Flags().StringVar(&source, "source", "", "only this source")
	return cmd
}
