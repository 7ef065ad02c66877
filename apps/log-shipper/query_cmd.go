package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	awsathena "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/log-shipper/athena"
	"github.com/unsilo/unsilo/apps/log-shipper/query"
	"github.com/unsilo/unsilo/contracts/lake/queries"
)

func queryCmd() *cobra.Command {
	var lakeDir, named string
	var all, asJSON, list, useAthena bool
	var workgroup, database, region string
	cmd := &cobra.Command{
		Use:   "query (--lake DIR | --athena --workgroup WG --database DB) ['SQL' | --named NAME | --all | --list]",
		Short: "Run SQL over the local lake with embedded DuckDB (views: alb, vpcflow, waf, cloudtrail, cloudfront, container)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			var qs []queries.Query
			switch {
			case list:
				all, err := queries.All()
				if err != nil {
					return err
				}
				for _, q := range all {
					fmt.Fprintf(out, "%-32s %s\n", q.Name, q.Description)
				}
				return nil
			case all:
				var err error
				if qs, err = queries.All(); err != nil {
					return err
				}
			case named != "":
				q, err := queries.Get(named)
				if err != nil {
					return err
				}
				qs = []queries.Query{q}
			case len(args) == 1:
				qs = []queries.Query{{Name: "query", SQL: args[0]}}
			default:
				return fmt.Errorf("give SQL, --named NAME, --all or --list")
			}
			eng, closeEng, err := engine(cmd, lakeDir, useAthena, workgroup, database, region)
			if err != nil {
				return err
			}
			defer closeEng()
			for _, q := range qs {
				start := time.Now()
				res, err := eng.Query(cmd.Context(), q.SQL)
				if err != nil {
					return fmt.Errorf("%s: %w", q.Name, err)
				}
				if asJSON {
					if err := json.NewEncoder(out).Encode(map[string]any{"name": q.Name, "columns": res.Columns, "rows": res.Rows}); err != nil {
						return fmt.Errorf("encode: %w", err)
					}
					continue
				}
				if len(qs) > 1 || named != "" {
					fmt.Fprintf(out, "== %s: %s (%d rows, %s)\n", q.Name, q.Description, len(res.Rows), time.Since(start).Round(time.Millisecond))
				}
				printTable(out, res)
				if len(qs) > 1 {
					fmt.Fprintln(out)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&lakeDir, "lake", "", "lake root directory (the --out of ingest)")
	cmd.Flags().Int("threads", 0, "DuckDB worker threads (0: one per core)")
	cmd.Flags().StringVar(&named, "named", "", "run a named query (contracts/lake/queries)")
	cmd.Flags().BoolVar(&all, "all", false, "run every named query")
	cmd.Flags().BoolVar(&list, "list", false, "list the named queries")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per query")
	cmd.Flags().BoolVar(&useAthena, "athena", false, "run the SQL through Athena instead of the local lake (the DataLake's workgroup and Glue database)")
	cmd.Flags().StringVar(&workgroup, "workgroup", "", "Athena workgroup (DataLake status.workgroup)")
	cmd.Flags().StringVar(&database, "database", "", "Glue database (DataLake status.databaseName)")
	cmd.Flags().StringVar(&region, "region", "", "AWS region (default: from the environment)")
	return cmd
}

type querier interface {
	Query(context.Context, string) (*query.Result, error)
}

// engine is the local DuckDB lake, or Athena with --athena.
func engine(cmd *cobra.Command, lake string, useAthena bool, workgroup, database, region string) (querier, func(), error) {
	if !useAthena {
		if lake == "" {
			return nil, nil, fmt.Errorf("--lake DIR is required (or --athena)")
		}
		threads, _ := cmd.Flags().GetInt("threads")
		eng, err := query.OpenThreads(cmd.Context(), lake, threads)
		if err != nil {
			return nil, nil, err
		}
		return eng, func() { _ = eng.Close() }, nil // in-memory database
	}
	if workgroup == "" || database == "" {
		return nil, nil, fmt.Errorf("--athena needs --workgroup and --database (the DataLake's status.workgroup and status.databaseName)")
	}
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(cmd.Context(), opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("aws config: %w", err)
	}
	return &athena.Runner{Client: awsathena.NewFromConfig(cfg), WorkGroup: workgroup, Database: database}, func() {}, nil
}

func printTable(w io.Writer, res *query.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(res.Columns, "\t"))
	for _, r := range res.Rows {
		parts := make([]string, len(r))
		for i, v := range r {
			if v == nil {
				parts[i] = "NULL"
			} else {
				parts[i] = fmt.Sprint(v)
			}
		}
		fmt.Fprintln(tw, strings.Join(parts, "\t"))
	}
	_ = tw.Flush() // stdout: nothing better to do with its error
}
