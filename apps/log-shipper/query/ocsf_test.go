package query

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/unsilo/unsilo/apps/log-shipper/lake"
)

// The AWS doc samples through the OCSF views: class, activity, status and
// the nested objects Security Lake queries use.
func TestOCSFViews(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "lake")
	st, err := lake.NewLocalStore(root)
	if err != nil {
		t.Fatal(err)
	}
	var inputs []lake.Input
	for _, d := range []string{"../testdata/cloudtrail", "../testdata/vpcflow/awsdocs_v5-traffic-path_with-header.log", "../testdata/vpcflow/awsdocs_v2-default_with-header.log"} {
		in, err := lake.LocalInputs(d)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, in...)
	}
	if _, err := (&lake.Ingester{Store: st, Source: "auto"}).Run(ctx, inputs); err != nil && err != lake.ErrInputsFailed {
		t.Fatal(err)
	}
	e, err := Open(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cases := []struct {
		sql, want, reason string
	}{
		{"SELECT activity_id, type_uid, status FROM ocsf_api_activity WHERE api.operation = 'CreateUser'", "[1 600301 Success]", "Create: activity 1"},
		{"SELECT activity_id, status, status_code FROM ocsf_api_activity WHERE api.operation = 'UpdateTrail'", "[3 Failure TrailNotFoundException]", "an error is a failure with its code"},
		{"SELECT activity_id FROM ocsf_api_activity WHERE api.operation = 'StartInstances'", "[3]", "Start: an update"},
		{"SELECT api.service.name, actor.user.account.uid, actor.user.type FROM ocsf_api_activity WHERE api.operation = 'CreateUser'", "[iam.amazonaws.com 123456789012 IAMUser]", "nested objects"},
		{"SELECT count(*) FROM ocsf_network_activity", "[7]", "7 v2 records less the NODATA and SKIPDATA ones, plus 2 v5 records"},
		{"SELECT \"action\", action_id, dst_endpoint.port, connection_info.protocol_num FROM ocsf_network_activity WHERE src_endpoint.ip = '172.31.9.69'", "[Denied 2 3389 6]", "REJECT is Denied"},
		{"SELECT cloud.region, connection_info.direction, traffic.bytes FROM ocsf_network_activity WHERE src_endpoint.ip = '10.0.0.71'", "[ap-southeast-2 egress 471]", "v5 fields"},
	}
	for _, tc := range cases {
		res, err := e.Query(ctx, tc.sql)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if len(res.Rows) != 1 || fmt.Sprint(res.Rows[0]) != tc.want {
			t.Errorf("%s: %v, want %s (%s)", tc.sql, res.Rows, tc.want, tc.reason)
		}
	}
}
