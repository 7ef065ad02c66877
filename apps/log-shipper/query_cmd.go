package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/log-shipper/queries"
	"github.com/unsilo/unsilo/apps/log-shipper/query"
)

func queryCmd() *cobra.Command {
	var lakeDir, named string
	var all, asJSON, list bool
	cmd := &cobra.Command{
		Use:   "query --lake DIR ['SQL' | --named NAME | --all | --list]",
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
			eng, err := query.Open(cmd.Context(), lakeDir)
			if err != nil {
				return err
			}
			defer eng.Close()
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
	cmd.Flags().StringVar(&named, "named", "", "run a named query from queries/")
	cmd.Flags().BoolVar(&all, "all", false, "run every named query")
	cmd.Flags().BoolVar(&list, "list", false, "list the named queries")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per query")
	return cmd
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
	tw.Flush()
}
