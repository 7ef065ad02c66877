// Package athena runs the same SQL the local DuckDB engine runs through an
// Athena workgroup (the DataLake API's), so a named query can be checked on
// a laptop and then asked of the real lake unchanged.
package athena

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/unsilo/unsilo/apps/log-shipper/query"
)

// API is the part of the Athena client a Runner uses.
type API interface {
	StartQueryExecution(context.Context, *sdk.StartQueryExecutionInput, ...func(*sdk.Options)) (*sdk.StartQueryExecutionOutput, error)
	GetQueryExecution(context.Context, *sdk.GetQueryExecutionInput, ...func(*sdk.Options)) (*sdk.GetQueryExecutionOutput, error)
	StopQueryExecution(context.Context, *sdk.StopQueryExecutionInput, ...func(*sdk.Options)) (*sdk.StopQueryExecutionOutput, error)
	sdk.GetQueryResultsAPIClient
}

// Runner runs queries in one workgroup and database. The workgroup
// enforces the result location, encryption and the bytes-scanned cutoff.
type Runner struct {
	Client    API
	WorkGroup string
	Database  string
	Poll      time.Duration
}

// QueryError is a query Athena refused or failed, with its reason.
type QueryError struct {
	ID, State, Reason string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("athena query %s %s: %s", e.ID, e.State, e.Reason)
}

// Query runs one statement and returns its rows as strings (nil for NULL),
// the way Athena returns them. A cancelled context stops the query.
func (r *Runner) Query(ctx context.Context, sql string) (*query.Result, error) {
	start, err := r.Client.StartQueryExecution(ctx, &sdk.StartQueryExecutionInput{
		QueryString:           aws.String(sql),
		WorkGroup:             aws.String(r.WorkGroup),
		QueryExecutionContext: &types.QueryExecutionContext{Database: aws.String(r.Database)},
	})
	if err != nil {
		return nil, fmt.Errorf("athena: start query in workgroup %s: %w", r.WorkGroup, err)
	}
	id := aws.ToString(start.QueryExecutionId)
	if err := r.wait(ctx, id); err != nil {
		return nil, err
	}
	return r.results(ctx, id)
}

func (r *Runner) wait(ctx context.Context, id string) error {
	poll := r.Poll
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		out, err := r.Client.GetQueryExecution(ctx, &sdk.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			return r.stop(id, fmt.Errorf("athena: query %s: %w", id, err))
		}
		st := out.QueryExecution.Status
		switch st.State {
		case types.QueryExecutionStateSucceeded:
			return nil
		case types.QueryExecutionStateFailed, types.QueryExecutionStateCancelled:
			return &QueryError{ID: id, State: string(st.State), Reason: aws.ToString(st.StateChangeReason)}
		}
		select {
		case <-ctx.Done():
			return r.stop(id, ctx.Err())
		case <-t.C:
		}
	}
}

// stop cancels a query left running because the caller gave up: Athena
// bills the bytes it scans whether anyone reads the answer or not.
func (r *Runner) stop(id string, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.Client.StopQueryExecution(ctx, &sdk.StopQueryExecutionInput{QueryExecutionId: aws.String(id)}); err != nil {
		return errors.Join(cause, fmt.Errorf("athena: stop query %s: %w", id, err))
	}
	return cause
}

func (r *Runner) results(ctx context.Context, id string) (*query.Result, error) {
	res := &query.Result{Rows: [][]any{}}
	p := sdk.NewGetQueryResultsPaginator(r.Client, &sdk.GetQueryResultsInput{QueryExecutionId: aws.String(id)})
	first := true
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("athena: results of %s: %w", id, err)
		}
		rows := page.ResultSet.Rows
		if first {
			for _, c := range page.ResultSet.ResultSetMetadata.ColumnInfo {
				res.Columns = append(res.Columns, aws.ToString(c.Name))
			}
			// A SELECT's first row repeats the column names.
			if len(rows) > 0 && header(rows[0], res.Columns) {
				rows = rows[1:]
			}
			first = false
		}
		for _, row := range rows {
			vals := make([]any, len(row.Data))
			for i, d := range row.Data {
				if d.VarCharValue != nil {
					vals[i] = *d.VarCharValue
				}
			}
			res.Rows = append(res.Rows, vals)
		}
	}
	return res, nil
}

func header(row types.Row, cols []string) bool {
	if len(row.Data) != len(cols) {
		return false
	}
	for i, d := range row.Data {
		if aws.ToString(d.VarCharValue) != cols[i] {
			return false
		}
	}
	return true
}
