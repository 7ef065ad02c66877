package server_test

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/unsilo/unsilo/functions/server"
	"github.com/unsilo/unsilo/internal/manifest"
)

// request builds the RunFunctionRequest Crossplane sends for the last XR
// of an example file, with the file's Network as the required resource
// (what a WebPortal asks for), as on every reconcile after the first.
func request(b *testing.B, file string) *fnv1.RunFunctionRequest {
	b.Helper()
	objs, err := manifest.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	structs := make([]*structpb.Struct, len(objs))
	req := &fnv1.RunFunctionRequest{Desired: &fnv1.State{}, RequiredResources: map[string]*fnv1.Resources{}}
	for i, o := range objs {
		if structs[i], err = structpb.NewStruct(o.Object); err != nil {
			b.Fatal(err)
		}
		if o.GetKind() == "Network" {
			req.RequiredResources["network"] = &fnv1.Resources{Items: []*fnv1.Resource{{Resource: structs[i]}}}
		}
	}
	// The control plane every role-creating XR asks for.
	platform, err := manifest.ReadFile("../../compositions/cluster/examples/prod.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range platform {
		if o.GetKind() == "Cluster" {
			s, err := structpb.NewStruct(o.Object)
			if err != nil {
				b.Fatal(err)
			}
			req.RequiredResources["control-plane"] = &fnv1.Resources{Items: []*fnv1.Resource{{Resource: s}}}
		}
	}
	req.Observed = &fnv1.State{Composite: &fnv1.Resource{Resource: structs[len(structs)-1]}}
	return req
}

// BenchmarkRunFunction measures one full RunFunction call on an example,
// reporting p50 and p99 latency alongside the mean.
func BenchmarkRunFunction(b *testing.B) {
	for _, ex := range []string{"network/examples/dev", "network/examples/prod", "staticsite/examples/prod", "webportal/examples/prod", "knowledgebase/examples/prod", "datalake/examples/prod"} {
		b.Run(ex, func(b *testing.B) {
			srv, err := server.New(slog.New(slog.NewTextHandler(io.Discard, nil)), server.APIs()...)
			if err != nil {
				b.Fatal(err)
			}
			req := request(b, "../../compositions/"+ex+".yaml")
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				// response.To shares the request's desired state, so each
				// call needs a fresh request to measure a first reconcile.
				r := proto.Clone(req).(*fnv1.RunFunctionRequest)
				start := time.Now()
				rsp, err := srv.RunFunction(ctx, r)
				lat = append(lat, time.Since(start))
				if err != nil || len(rsp.GetResults()) > 0 && rsp.GetResults()[0].GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
					b.Fatalf("run failed: %v %v", err, rsp.GetResults())
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(len(rsp(b, srv, proto.Clone(req).(*fnv1.RunFunctionRequest)).GetDesired().GetResources())), "resources")
		})
	}
}

func rsp(b *testing.B, srv *server.Server, req *fnv1.RunFunctionRequest) *fnv1.RunFunctionResponse {
	r, err := srv.RunFunction(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	return r
}
