// Package query runs SQL over a local lake with embedded DuckDB: one view
// per source (named after it) over exactly the data files of the latest
// commit of the source's Delta table (read_parquet of the file list, with
// Hive partitioning), so a query sees each input whole or not at all, as
// Athena does through the same log.
package query

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/unsilo/unsilo/apps/log-shipper/delta"
	"github.com/unsilo/unsilo/apps/log-shipper/lake"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// Engine is an in-memory DuckDB with the lake's views.
type Engine struct {
	db *sql.DB
}

// Open creates the views over the lake directory.
func Open(ctx context.Context, root string) (*Engine, error) { return OpenThreads(ctx, root, 0) }

// OpenThreads is Open with DuckDB limited to threads worker threads (0: its
// default, one per core).
func OpenThreads(ctx context.Context, root string, threads int) (*Engine, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("lake path: %w", err)
	}
	dsn := ""
	if threads > 0 {
		dsn = fmt.Sprintf("?threads=%d", threads)
	}
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	db.SetMaxOpenConns(1) // views live in the single in-memory database connection
	e := &Engine{db: db}
	st := &lake.LocalStore{Root: abs}
	for _, s := range schema.Sources() {
		snap, err := delta.Load(ctx, st, delta.NewTable(st, s).Root)
		if err != nil {
			_ = db.Close() // the view error is the one to report
			return nil, fmt.Errorf("table %s: %w", s.Name, err)
		}
		var files []string
		for _, p := range snap.Paths() {
			files = append(files, filepath.Join(abs, "source="+s.Name, filepath.FromSlash(p)))
		}
		if _, err := db.ExecContext(ctx, ViewSQL(s, files)); err != nil {
			_ = db.Close() // the view error is the one to report
			return nil, fmt.Errorf("create view %s: %w", s.Name, err)
		}
	}
	for name, v := range map[string]string{"ocsf_api_activity": ocsfAPIActivity, "ocsf_network_activity": ocsfNetworkActivity} {
		if _, err := db.ExecContext(ctx, v); err != nil {
			_ = db.Close() // the view error is the one to report
			return nil, fmt.Errorf("create view %s: %w", name, err)
		}
	}
	return e, nil
}

// Close releases the database.
func (e *Engine) Close() error { return e.db.Close() }

func duckType(k schema.Kind) string {
	switch k {
	case schema.Int:
		return "INTEGER"
	case schema.BigInt:
		return "BIGINT"
	case schema.Double:
		return "DOUBLE"
	case schema.Bool:
		return "BOOLEAN"
	case schema.Timestamp:
		return "TIMESTAMP WITH TIME ZONE"
	}
	return "VARCHAR"
}

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// ViewSQL returns the CREATE VIEW of a source over its committed data
// files: columns in schema order plus the partition keys, typed as strings
// like in the Athena table (so `WHERE dt = '2026-11-28' AND hour = '10'`
// means the same in both); an empty typed view when the table has no file
// yet.
func ViewSQL(s *schema.Source, files []string) string {
	var cols []string
	for _, c := range s.Columns {
		cols = append(cols, ident(c.Name))
	}
	if len(files) == 0 {
		var typed []string
		for _, c := range s.Columns {
			typed = append(typed, fmt.Sprintf("CAST(NULL AS %s) AS %s", duckType(c.Kind), ident(c.Name)))
		}
		typed = append(typed, "CAST(NULL AS VARCHAR) AS source")
		for _, k := range s.PartitionKeys {
			typed = append(typed, "CAST(NULL AS VARCHAR) AS "+ident(k.Name))
		}
		return fmt.Sprintf("CREATE OR REPLACE VIEW %s AS SELECT %s WHERE false", ident(s.Name), strings.Join(typed, ", "))
	}
	lits := make([]string, len(files))
	for i, f := range files {
		lits[i] = "'" + strings.ReplaceAll(f, "'", "''") + "'"
	}
	keys, types := []string{"source"}, []string{"'source': VARCHAR"}
	for _, k := range s.PartitionKeys {
		keys = append(keys, ident(k.Name))
		types = append(types, "'"+k.Name+"': VARCHAR")
	}
	return fmt.Sprintf("CREATE OR REPLACE VIEW %s AS SELECT %s, %s FROM read_parquet([%s], hive_partitioning = true, union_by_name = true, hive_types = {%s})",
		ident(s.Name), strings.Join(cols, ", "), strings.Join(keys, ", "), strings.Join(lits, ", "), strings.Join(types, ", "))
}

// Result is a query answer.
type Result struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// Query runs one SQL statement.
func (e *Engine) Query(ctx context.Context, q string) (*Result, error) {
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("columns: %w", err)
	}
	res := &Result{Columns: cols, Rows: [][]any{}}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rows: %w", err)
	}
	return res, nil
}
