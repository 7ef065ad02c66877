package athena

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/athena"
)

// fakeAthena speaks Athena's awsJson1.1 wire protocol (X-Amz-Target
// dispatch, JSON bodies shaped like the SDK's types) so the real SDK client
// is exercised end to end; only AWS itself is replaced.
type fakeAthena struct {
	mu       sync.Mutex
	states   []string // GetQueryExecution answers, in order; the last repeats
	reason   string
	pages    []string // GetQueryResults bodies, chained by NextToken
	requests map[string][]map[string]any
}

func (f *fakeAthena) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonAthena.")
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests[op] = append(f.requests[op], in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch op {
	case "StartQueryExecution":
		io.WriteString(w, `{"QueryExecutionId":"q-1"}`)
	case "GetQueryExecution":
		st := f.states[0]
		if len(f.states) > 1 {
			f.states = f.states[1:]
		}
		json.NewEncoder(w).Encode(map[string]any{"QueryExecution": map[string]any{"QueryExecutionId": "q-1",
			"Status": map[string]any{"State": st, "StateChangeReason": f.reason}}})
	case "GetQueryResults":
		page := 0
		if tok, ok := in["NextToken"].(string); ok {
			page = int(tok[0] - '0')
		}
		io.WriteString(w, f.pages[page])
	case "StopQueryExecution":
		io.WriteString(w, `{}`)
	default:
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"InvalidRequestException","Message":"unknown operation"}`)
	}
}

func runner(t *testing.T, f *fakeAthena) *Runner {
	t.Helper()
	f.requests = map[string][]map[string]any{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := sdk.New(sdk.Options{
		Region: "ap-northeast-2", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
	return &Runner{Client: c, WorkGroup: "unsilo-prod", Database: "unsilo_prod", Poll: time.Millisecond}
}

const (
	page0 = `{"ResultSet":{"ResultSetMetadata":{"ColumnInfo":[{"Name":"target_ip","Type":"varchar"},{"Name":"errors","Type":"bigint"}]},
	  "Rows":[{"Data":[{"VarCharValue":"target_ip"},{"VarCharValue":"errors"}]},{"Data":[{"VarCharValue":"10.0.1.7"},{"VarCharValue":"42"}]}]},"NextToken":"1"}`
	page1 = `{"ResultSet":{"ResultSetMetadata":{"ColumnInfo":[{"Name":"target_ip","Type":"varchar"},{"Name":"errors","Type":"bigint"}]},
	  "Rows":[{"Data":[{},{"VarCharValue":"3"}]}]}}`
)

func TestQueryPollsAndPages(t *testing.T) {
	f := &fakeAthena{states: []string{"QUEUED", "RUNNING", "SUCCEEDED"}, pages: []string{page0, page1}}
	r := runner(t, f)
	res, err := r.Query(context.Background(), "SELECT target_ip, count(*) AS errors FROM alb GROUP BY 1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Columns, []string{"target_ip", "errors"}) {
		t.Errorf("columns %v", res.Columns)
	}
	want := [][]any{{"10.0.1.7", "42"}, {nil, "3"}}
	if !reflect.DeepEqual(res.Rows, want) {
		t.Errorf("rows %v, want %v (header dropped, NULL as nil, both pages)", res.Rows, want)
	}
	start := f.requests["StartQueryExecution"][0]
	if start["WorkGroup"] != "unsilo-prod" || start["QueryExecutionContext"].(map[string]any)["Database"] != "unsilo_prod" {
		t.Errorf("query not run in the workgroup and database: %v", start)
	}
	if n := len(f.requests["GetQueryExecution"]); n != 3 {
		t.Errorf("polled %d times, want until SUCCEEDED (3)", n)
	}
}

func TestFailedQueryKeepsAthenasReason(t *testing.T) {
	f := &fakeAthena{states: []string{"RUNNING", "FAILED"}, reason: "Query exhausted resources at this scale factor (bytes scanned limit)"}
	_, err := runner(t, f).Query(context.Background(), "SELECT 1")
	var qe *QueryError
	if !errors.As(err, &qe) || qe.State != "FAILED" || !strings.Contains(qe.Reason, "bytes scanned limit") {
		t.Fatalf("err %v, want a QueryError with Athena's reason", err)
	}
}

func TestCancelStopsTheQuery(t *testing.T) {
	f := &fakeAthena{states: []string{"RUNNING"}}
	r := runner(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	r.Poll = time.Hour // the first poll answers RUNNING, then the loop waits on ctx
	done := make(chan error, 1)
	go func() { done <- func() error { _, err := r.Query(ctx, "SELECT 1"); return err }() }()
	for {
		f.mu.Lock()
		n := len(f.requests["GetQueryExecution"])
		f.mu.Unlock()
		if n > 0 {
			break
		}
		runtime.Gosched()
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if len(f.requests["StopQueryExecution"]) != 1 {
		t.Error("a cancelled query was left running (and billing)")
	}
}
