// Package queries holds the lake's named SQL queries (one .sql file each,
// the first comment line is the description), written against the
// per-source tables: log-shipper runs them on DuckDB or Athena, and the
// DataLake composition function composes them as Athena named queries.
package queries

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.sql
var files embed.FS

// Query is one named query.
type Query struct {
	Name        string
	Description string // the first comment line
	SQL         string
}

// All returns the named queries sorted by name.
func All() ([]Query, error) {
	ents, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list queries: %w", err)
	}
	sort.Strings(ents)
	out := make([]Query, 0, len(ents))
	for _, e := range ents {
		b, err := files.ReadFile(e)
		if err != nil {
			return nil, fmt.Errorf("read query %s: %w", e, err)
		}
		q := Query{Name: strings.TrimSuffix(e, ".sql"), SQL: string(b)}
		if first, _, _ := strings.Cut(q.SQL, "\n"); strings.HasPrefix(first, "--") {
			q.Description = strings.TrimSpace(strings.TrimPrefix(first, "--"))
		}
		out = append(out, q)
	}
	return out, nil
}

// Get returns the named query.
func Get(name string) (Query, error) {
	all, err := All()
	if err != nil {
		return Query{}, err
	}
	for _, q := range all {
		if q.Name == name {
			return q, nil
		}
	}
	return Query{}, fmt.Errorf("no named query %q", name)
}
