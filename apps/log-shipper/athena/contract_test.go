package athena

import (
	"context"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/service/athena"

	"github.com/unsilo/unsilo/contracts/awscalls"
)

// TestAWSContract records the Athena calls `log-shipper query --athena`
// makes (a query that pages, one that fails, one cancelled) into
// contracts/log-shipper/athena.json, which unsilo verify holds the
// composed log-shipper role to.
func TestAWSContract(t *testing.T) {
	rec := awscalls.New()
	recorded := func(f *fakeAthena) *Runner {
		r := runner(t, f)
		o := r.Client.(*sdk.Client).Options()
		o.APIOptions = append(o.APIOptions, rec.APIOption)
		r.Client = sdk.New(o)
		return r
	}
	if _, err := recorded(&fakeAthena{states: []string{"SUCCEEDED"}, pages: []string{page0, page1}}).Query(context.Background(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := recorded(&fakeAthena{states: []string{"FAILED"}, reason: "SYNTAX_ERROR"}).Query(context.Background(), "SELECT 1"); err == nil {
		t.Fatal("a failed query must fail")
	}
	f := &fakeAthena{states: []string{"RUNNING"}}
	r := recorded(f)
	r.Poll = time.Hour // the first poll answers RUNNING, then the loop waits on ctx
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := r.Query(ctx, "SELECT 1"); done <- err }()
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
	if err := awscalls.Golden("../../../contracts/log-shipper/athena.json", "go test ./apps/log-shipper/athena -run TestAWSContract", rec, os.Getenv("UPDATE_GOLDEN") != ""); err != nil {
		t.Error(err)
	}
}
