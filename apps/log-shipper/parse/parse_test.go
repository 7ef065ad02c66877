package parse

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

func parseFile(t *testing.T, source, path string) *Collect {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseBytes(t, source, b, path)
}

func parseBytes(t *testing.T, source string, b []byte, name string) *Collect {
	t.Helper()
	p, err := New(source)
	if err != nil {
		t.Fatal(err)
	}
	c := &Collect{}
	if err := p.Parse(context.Background(), bytes.NewReader(b), name, c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// get returns a column value of a record by name.
func get(t *testing.T, source string, r schema.Record, col string) any {
	t.Helper()
	s, err := schema.Lookup(source)
	if err != nil {
		t.Fatal(err)
	}
	return r.Values[s.MustIndex(col)].Any()
}

func TestFixtureCounts(t *testing.T) {
	cases := []struct {
		source, file string
		records, bad int
	}{
		{schema.ALB, "alb/awsdocs_example-entries_2023.log", 7, 0},
		{schema.ALB, "alb/vrl_parse_aws_alb_log_tests.log", 15, 0},
		{schema.VPCFlow, "vpcflow/awsdocs_v2-default_with-header.log", 7, 0},
		{schema.VPCFlow, "vpcflow/awsdocs_v3-tcp-flags_with-header.log", 8, 0},
		// no start/end either: quarantined unless the object name carries a time
		{schema.VPCFlow, "vpcflow/awsdocs_v3-transit-gateway_with-header.log", 0, 4},
		{schema.VPCFlow, "vpcflow/awsdocs_v5-traffic-path_with-header.log", 2, 0},
		// no start/end in the format and no time in the file name
		{schema.VPCFlow, "vpcflow/awsdocs_nat-gateway-custom_with-header.log", 0, 4},
		// doc annotations after the fields: field count mismatch
		{schema.VPCFlow, "vpcflow/awsdocs_nat-gateway-custom_doc-annotated.log", 0, 2},
		{schema.CloudFront, "cloudfront/awsdocs_AccessLogs_example.log", 6, 0},
		{schema.WAF, "waf/awsdocs_examples_compacted.jsonl", 6, 0},
		{schema.WAF, "waf/awsdocs_captcha-missing-token.pretty.json", 1, 0},
		{schema.WAF, "waf/awsdocs_captcha-valid-token.pretty.json", 1, 0},
		{schema.WAF, "waf/awsdocs_json-body-inspection.pretty.json", 1, 0},
		{schema.WAF, "waf/awsdocs_rulegroup-xss-terminating.pretty.json", 1, 0},
		{schema.WAF, "waf/awsdocs_sqli-nonterminating-count-allow.pretty.json", 1, 0},
		{schema.WAF, "waf/awsdocs_sqli-terminating-block.pretty.json", 1, 0},
		{schema.CloudTrail, "cloudtrail/awsdocs_cloudtrail-UpdateTrail-error.json", 1, 0},
		{schema.CloudTrail, "cloudtrail/awsdocs_ec2-CreateKeyPair.json", 1, 0},
		{schema.CloudTrail, "cloudtrail/awsdocs_ec2-StartInstances.json", 1, 0},
		{schema.CloudTrail, "cloudtrail/awsdocs_ec2-StopInstances.json", 1, 0},
		{schema.CloudTrail, "cloudtrail/awsdocs_iam-AddUserToGroup.json", 1, 0},
		{schema.CloudTrail, "cloudtrail/awsdocs_iam-CreateUser.json", 1, 0},
		{schema.CloudTrail, "cloudtrail/awsdocs_insights-events.json", 2, 0},
		{schema.CloudTrail, "cloudtrail/awsdocs_iam-CreateRole_INVALID-doc-wrapped-newline-in-string.json", 0, 1},
		{schema.Container, "container/fluentbit_json_lines.log", 5, 1},
		{schema.Container, "container/fluentbit_json_array.json", 3, 0},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			c := parseFile(t, tc.source, filepath.Join("..", "testdata", tc.file))
			if len(c.Records) != tc.records || len(c.Bads) != tc.bad {
				t.Fatalf("records=%d bad=%d, want %d/%d; bad: %+v", len(c.Records), len(c.Bads), tc.records, tc.bad, c.Bads)
			}
			for _, b := range c.Bads {
				if b.Line < 1 || b.Reason == "" || b.File == "" {
					t.Errorf("bad entry lacks position or reason: %+v", b)
				}
			}
			for _, r := range c.Records {
				if r.Time.IsZero() || r.Time.Location() != time.UTC {
					t.Errorf("record time %v", r.Time)
				}
			}
			if got := Detect(mustRead(t, filepath.Join("..", "testdata", tc.file))); got != tc.source {
				t.Errorf("Detect = %q, want %q", got, tc.source)
			}
		})
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestALBFields(t *testing.T) {
	docs := parseFile(t, schema.ALB, "../testdata/alb/awsdocs_example-entries_2023.log")
	vrl := parseFile(t, schema.ALB, "../testdata/alb/vrl_parse_aws_alb_log_tests.log")
	d := func(i int, col string) any { return get(t, schema.ALB, docs.Records[i], col) }
	g := func(i int, col string) any { return get(t, schema.ALB, vrl.Records[i-1], col) } // by file line
	// docs line 1: all 29 fields, through classification_reason
	want := map[string]any{
		"type": "http", "elb": "app/my-loadbalancer/50dc6c495c0c9188", "client_ip": "192.168.131.39",
		"client_port": int64(2817), "target_ip": "10.0.0.1", "target_port": int64(80), "elb_status_code": int64(200),
		"target_status_code": int64(200), "received_bytes": int64(34), "sent_bytes": int64(366),
		"request_verb": "GET", "request_url": "http://www.example.com:80/", "request_proto": "HTTP/1.1",
		"user_agent": "curl/7.46.0", "ssl_cipher": nil, "matched_rule_priority": int64(0), "actions_executed": "forward",
		"target_port_list": "10.0.0.1:80", "target_status_code_list": "200", "classification": nil, "conn_trace_id": nil,
		"time":                  time.Date(2018, 7, 2, 22, 23, 0, 186641000, time.UTC),
		"request_creation_time": time.Date(2018, 7, 2, 22, 22, 48, 364000000, time.UTC),
	}
	for col, w := range want {
		if got := d(0, col); got != w {
			t.Errorf("docs line 1 %s = %#v, want %#v", col, got, w)
		}
	}
	if d(1, "chosen_cert_arn") != "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" || d(1, "domain_name") != "www.example.com" ||
		d(1, "ssl_protocol") != "TLSv1.2" || d(1, "request_processing_time") != 0.086 || d(2, "redirect_url") != "https://example.com:80/" {
		t.Errorf("docs lines 2-3")
	}
	// docs line 7: lambda failure, target not dispatched
	if d(6, "target_ip") != nil || d(6, "target_status_code") != nil || d(6, "error_reason") != "LambdaInvalidResponse" || d(6, "elb_status_code") != int64(502) {
		t.Errorf("docs line 7: %v %v %v", d(6, "target_ip"), d(6, "target_status_code"), d(6, "error_reason"))
	}
	// vrl line 2: TID + three newer trailing fields ("-")
	if g(2, "conn_trace_id") != "TID_12345" || g(2, "transformed_host") != nil || g(2, "extra_fields") != nil {
		t.Errorf("line 2: %v %v", g(2, "conn_trace_id"), g(2, "extra_fields"))
	}
	// vrl line 3: unquoted lists (test-authored quirk) still land in their columns
	if g(3, "target_port_list") != "10.0.0.1:80" || g(3, "target_status_code_list") != "200" || g(3, "conn_trace_id") != "TID_dc57cebed65b444ebc8177bb698fe166" {
		t.Errorf("line 3: %v %v", g(3, "target_port_list"), g(3, "conn_trace_id"))
	}
	// vrl line 11: malformed request line, processing times -1, no rule
	if g(11, "request_verb") != nil || g(11, "request_url") != "http://awseb-awseb-1kgu6fbag3fad-640112591.us-east-1.elb.amazonaws.com:80-" ||
		g(11, "request_proto") != nil || g(11, "request_processing_time") != float64(-1) || g(11, "matched_rule_priority") != nil ||
		g(11, "target_group_arn") != nil || g(11, "elb_status_code") != int64(400) {
		t.Errorf("line 11: %v %v %v", g(11, "request_verb"), g(11, "request_url"), g(11, "request_proto"))
	}
	// vrl line 12: user agent with spaces
	if g(12, "user_agent") != "Mozilla/5.0 (X11; Linux x86_64; rv:60.0) Gecko/20100101 Firefox/60.0" || g(12, "request_verb") != "POST" {
		t.Errorf("line 12 ua %v", g(12, "user_agent"))
	}
	// vrl lines 13-14: IPv6 without brackets, query string with ':'
	for _, ln := range []int{13, 14} {
		if g(ln, "client_ip") != "2601:6bbc:c529:9dad:6bbc:c529:9dad:6bbc" || g(ln, "client_port") != int64(50599) ||
			g(ln, "target_ip") != "fd6d:6bbc:c529:6::face:ed83:f46" || g(ln, "target_port") != int64(80) ||
			g(ln, "actions_executed") != "waf,forward" || g(ln, "target_port_list") != "fd6d:6bbc:c529:27ff:b::dead:ed84:80" ||
			g(ln, "request_url") != "https://test.domain.com:443/api/deposits/transactions:search?detailsLevel=FULL&offset=0&limit=50" {
			t.Errorf("line %d: %v %v %v", ln, g(ln, "client_ip"), g(ln, "target_ip"), g(ln, "request_url"))
		}
	}
	if g(14, "conn_trace_id") != nil || g(15, "request_transform_status") != nil || g(15, "conn_trace_id") == nil {
		t.Errorf("lines 14/15 trailing fields")
	}
}

func TestALBLines(t *testing.T) {
	base := `https 2024-05-01T10:00:00.000000Z app/lb/1 [2001:db8::1]:443 10.0.0.5:8080 0.001 0.002 0.003 503 503 10 20 "GET https://x.example:443/a%20b?q=1 HTTP/1.1" "Mozilla/5.0 \"quoted\" (X)" ECDHE TLSv1.3 arn:tg "Root=1" "x.example" "session-reused" 5 2024-05-01T09:59:59.990000Z "waf,forward" "-" "-" "10.0.0.5:8080 10.0.0.6:8080" "503 503" "Acceptable" "-" TID_1 "h" "/u" "OK"`
	cases := []struct {
		name, line, reason string
		check              map[string]any
	}{
		{name: "bracketed ipv6, escaped quotes, lists", line: base, check: map[string]any{
			"client_ip": "2001:db8::1", "client_port": int64(443), "user_agent": `Mozilla/5.0 "quoted" (X)`,
			"target_port_list": "10.0.0.5:8080 10.0.0.6:8080", "classification": "Acceptable", "transformed_uri": "/u",
			"request_transform_status": "OK", "chosen_cert_arn": "session-reused", "extra_fields": nil}},
		{name: "unknown trailing fields kept", line: base + ` "future" 42`, check: map[string]any{"extra_fields": `future 42`}},
		{name: "old 25-field line", line: strings.Join(strings.Fields(`http 2024-05-01T10:00:00Z app/lb/1 1.2.3.4:1 - -1 -1 -1 460 - 0 0`), " ") + ` "- - -" "-" - - - "-" "-" "-" - 2024-05-01T10:00:00Z "-" "-" "-"`,
			check: map[string]any{"elb_status_code": int64(460), "target_port_list": nil, "request_verb": nil}},
		{name: "too few fields", line: `http 2024-05-01T10:00:00Z app/lb/1 1.2.3.4:1`, reason: "4 fields, want at least 25"},
		{name: "unterminated quote", line: `http 2024-05-01T10:00:00Z app/lb/1 1.2.3.4:1 - 0 0 0 200 200 1 1 "GET /`, reason: "unterminated"},
		{name: "bad time", line: strings.Replace(base, "2024-05-01T10:00:00.000000Z", "yesterday", 1), reason: "time: invalid timestamp"},
		{name: "bad status", line: strings.Replace(base, " 503 503 ", " 5x3 503 ", 1), reason: "elb_status_code: invalid integer"},
		{name: "bad ip", line: strings.Replace(base, "10.0.0.5:8080 0.001", "10.0.0.999:8080 0.001", 1), reason: "target:port: invalid IP"},
		{name: "unknown type", line: "gopher" + base[5:], reason: "unknown request type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := parseBytes(t, schema.ALB, []byte(tc.line+"\n"), "x.log")
			if tc.reason != "" {
				if len(c.Bads) != 1 || !strings.Contains(c.Bads[0].Reason, tc.reason) || c.Bads[0].Line != 1 {
					t.Fatalf("want quarantine %q, got %+v records=%d", tc.reason, c.Bads, len(c.Records))
				}
				return
			}
			if len(c.Records) != 1 {
				t.Fatalf("bad: %+v", c.Bads)
			}
			for col, w := range tc.check {
				if got := get(t, schema.ALB, c.Records[0], col); got != w {
					t.Errorf("%s = %#v, want %#v", col, got, w)
				}
			}
		})
	}
}

func TestBadLinesDoNotStopFile(t *testing.T) {
	good := mustRead(t, "../testdata/alb/awsdocs_example-entries_2023.log")
	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	in := strings.Join([]string{lines[0], "garbage", "", lines[1], strings.Repeat("x", MaxLine+10), lines[2]}, "\r\n")
	c := parseBytes(t, schema.ALB, []byte(in), "mixed.log")
	if len(c.Records) != 3 || len(c.Bads) != 2 {
		t.Fatalf("records=%d bad=%+v", len(c.Records), len(c.Bads))
	}
	if c.Bads[0].Line != 2 || c.Bads[1].Line != 5 || !strings.Contains(c.Bads[1].Reason, "longer than") || len(c.Bads[1].Raw) > maxRaw {
		t.Fatalf("bad positions: %d %d %q", c.Bads[0].Line, c.Bads[1].Line, c.Bads[1].Reason)
	}
}

func TestVPCFlow(t *testing.T) {
	c := parseFile(t, schema.VPCFlow, "../testdata/vpcflow/awsdocs_v2-default_with-header.log")
	g := func(i int, col string) any { return get(t, schema.VPCFlow, c.Records[i], col) }
	if g(0, "srcaddr") != "172.31.16.139" || g(0, "dstport") != int64(22) || g(0, "bytes") != int64(4249) || g(0, "action") != "ACCEPT" {
		t.Errorf("record 1: %v %v", g(0, "srcaddr"), g(0, "bytes"))
	}
	if g(2, "log_status") != "NODATA" || g(2, "srcaddr") != nil || g(2, "action") != nil || g(2, "packets") != nil || g(3, "log_status") != "SKIPDATA" {
		t.Errorf("NODATA/SKIPDATA: %v %v", g(2, "log_status"), g(2, "srcaddr"))
	}
	if g(6, "srcaddr") != "2001:db8:1234:a100:8d6e:3477:df66:f105" {
		t.Errorf("ipv6: %v", g(6, "srcaddr"))
	}
	if c.Records[0].Time != time.Unix(1418530010, 0).UTC() {
		t.Errorf("time %v", c.Records[0].Time)
	}
	// header without the header line: default v2 assumed
	b := mustRead(t, "../testdata/vpcflow/awsdocs_v2-default_with-header.log")
	_, body, _ := strings.Cut(string(b), "\n")
	if c2 := parseBytes(t, schema.VPCFlow, []byte(body), "noheader.log"); len(c2.Records) != 7 {
		t.Errorf("headerless: %d %+v", len(c2.Records), c2.Bads)
	}

	c = parseFile(t, schema.VPCFlow, "../testdata/vpcflow/awsdocs_v5-traffic-path_with-header.log")
	if get(t, schema.VPCFlow, c.Records[1], "traffic_path") != int64(8) || get(t, schema.VPCFlow, c.Records[1], "flow_direction") != "egress" ||
		get(t, schema.VPCFlow, c.Records[0], "pkt_src_aws_service") != "S3" || get(t, schema.VPCFlow, c.Records[0], "az_id") != "apse2-az3" {
		t.Errorf("v5: %+v", c.Records[1].Values)
	}
	c = parseFile(t, schema.VPCFlow, "../testdata/vpcflow/awsdocs_v3-tcp-flags_with-header.log")
	if get(t, schema.VPCFlow, c.Records[7], "srcport") != int64(5001) || get(t, schema.VPCFlow, c.Records[7], "tcp_flags") != int64(19) {
		t.Errorf("double space record: %+v", c.Records[7].Values)
	}
	// custom format without start/end: the time in the object name is used
	p := &VPCFlow{src: mustSource(schema.VPCFlow), FallbackTime: TimeFromName("123_vpcflowlogs_us-east-1_fl-1_20240102T0305Z_ab.log.gz")}
	col := &Collect{}
	if err := p.Parse(context.Background(), bytes.NewReader(mustRead(t, "../testdata/vpcflow/awsdocs_nat-gateway-custom_with-header.log")), "n", col); err != nil || len(col.Records) != 4 {
		t.Fatalf("fallback time: %v %+v", err, col.Bads)
	}
	if col.Records[0].Time != time.Date(2024, 1, 2, 3, 5, 0, 0, time.UTC) || get(t, schema.VPCFlow, col.Records[0], "instance_id") != nil {
		t.Errorf("fallback: %v", col.Records[0].Time)
	}
}

func TestVPCFlowNewerVersions(t *testing.T) {
	for _, name := range []string{"vrl_v7-ecs-fields_noheader", "vrl_v8-v11-fields_noheader", "vrl_v11-example_noheader"} {
		format := strings.TrimSpace(string(mustRead(t, "../testdata/vpcflow/"+name+".format")))
		body := mustRead(t, "../testdata/vpcflow/"+name+".log")
		c := parseBytes(t, schema.VPCFlow, append([]byte(format+"\n"), body...), name)
		if len(c.Bads) != 0 || len(c.Records) == 0 {
			t.Fatalf("%s: %+v", name, c.Bads)
		}
		r := c.Records[0]
		switch name {
		case "vrl_v7-ecs-fields_noheader":
			if get(t, schema.VPCFlow, r, "ecs_cluster_name") != "my-cluster" || get(t, schema.VPCFlow, r, "ecs_task_id") != "abcd1234" {
				t.Errorf("ecs: %+v", r.Values)
			}
		case "vrl_v11-example_noheader":
			if get(t, schema.VPCFlow, r, "reject_reason") != "BPA" ||
				get(t, schema.VPCFlow, r, "extra_fields") != `{"encryption_status":"1","interface_type":"nat_gateway","resource_id":"nat-0c50d5961bcb2d47b"}` {
				t.Errorf("v11: %v", get(t, schema.VPCFlow, r, "extra_fields"))
			}
		}
	}
}

func TestCloudFront(t *testing.T) {
	c := parseFile(t, schema.CloudFront, "../testdata/cloudfront/awsdocs_AccessLogs_example.log")
	g := func(i int, col string) any { return get(t, schema.CloudFront, c.Records[i], col) }
	if g(0, "cs_user_agent") != "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36" {
		t.Errorf("ua not decoded: %v", g(0, "cs_user_agent"))
	}
	if g(0, "time") != time.Date(2019, 12, 4, 21, 2, 31, 0, time.UTC) || g(0, "sc_bytes") != int64(392) || g(0, "cs_uri_stem") != "/index.html" ||
		g(0, "time_taken") != 0.001 || g(0, "c_port") != int64(11040) || g(0, "sc_range_start") != nil {
		t.Errorf("record 1: %+v", c.Records[0].Values)
	}
	if g(3, "sc_status") != int64(502) || g(3, "cs_referer") != "http://www.example.com/" || g(3, "x_edge_detailed_result_type") != "OriginDnsError" {
		t.Errorf("record 4: %+v", c.Records[3].Values)
	}
	// header-driven: a reordered, shorter field list with an unknown field
	in := "#Version: 1.0\n#Fields: time date cs-uri-stem sc-status x-new-field\n01:02:03\t2024-02-03\t/a%20b\t000\tzz\n01:02:03\t2024-02-03\t/x\tabc\t-\n"
	c = parseBytes(t, schema.CloudFront, []byte(in), "cf.log")
	if len(c.Records) != 1 || len(c.Bads) != 1 || c.Bads[0].Line != 4 {
		t.Fatalf("%d %+v", len(c.Records), c.Bads)
	}
	if g(0, "cs_uri_stem") != "/a b" || g(0, "sc_status") != nil || g(0, "extra_fields") != `{"x_new_field":"zz"}` {
		t.Errorf("%+v", c.Records[0].Values)
	}
}

func TestWAF(t *testing.T) {
	c := parseFile(t, schema.WAF, "../testdata/waf/awsdocs_examples_compacted.jsonl")
	g := func(i int, col string) any { return get(t, schema.WAF, c.Records[i], col) }
	if g(0, "action") != "BLOCK" || g(0, "terminating_rule_id") != "STMTest_SQLi_XSS" || g(0, "client_ip") != "1.1.1.1" ||
		g(0, "host") != "localhost:1989" || g(0, "user_agent") != "curl/7.61.1" || g(0, "labels") != "value" ||
		g(0, "time") != time.UnixMilli(1576280412771).UTC() {
		t.Errorf("record 1: %+v", c.Records[0].Values)
	}
	c = parseFile(t, schema.WAF, "../testdata/waf/awsdocs_rulegroup-xss-terminating.pretty.json")
	if g(0, "rule_group_terminating_rule_id") == nil || g(0, "rule_group_list") == nil {
		t.Errorf("rule group: %+v", c.Records[0].Values)
	}
	in := `{"timestamp":1,"action":"ALLOW","newKey":{"a":1}}` + "\n" + `{"timestamp":"x","action":"ALLOW"}` + "\n{\n\"timestamp\": 2,\n" + "{\"timestamp\":3,\"action\":\"BLOCK\"}\n[1]\n"
	c = parseBytes(t, schema.WAF, []byte(in), "w.log")
	if len(c.Records) != 2 || len(c.Bads) != 3 {
		t.Fatalf("records %d bad %+v", len(c.Records), c.Bads)
	}
	if g(0, "extra_fields") != `{"newKey":{"a":1}}` {
		t.Errorf("extra: %v", g(0, "extra_fields"))
	}
	lines := []int{c.Bads[0].Line, c.Bads[1].Line, c.Bads[2].Line}
	if lines[0] != 2 || lines[1] != 3 || lines[2] != 6 {
		t.Errorf("bad lines %v (%+v)", lines, c.Bads)
	}
}

func TestCloudTrail(t *testing.T) {
	c := parseFile(t, schema.CloudTrail, "../testdata/cloudtrail/awsdocs_cloudtrail-UpdateTrail-error.json")
	g := func(i int, col string) any { return get(t, schema.CloudTrail, c.Records[i], col) }
	if g(0, "error_code") != "TrailNotFoundException" || g(0, "user_name") != "Alice" || g(0, "event_name") != "UpdateTrail" ||
		g(0, "request_parameters") != `{"name":"myTrail2"}` || g(0, "response_elements") != nil {
		t.Errorf("%+v", c.Records[0].Values)
	}
	c = parseFile(t, schema.CloudTrail, "../testdata/cloudtrail/awsdocs_iam-CreateRole_INVALID-doc-wrapped-newline-in-string.json")
	if !strings.Contains(c.Bads[0].Reason, "invalid") || c.Bads[0].Line < 2 {
		t.Errorf("%+v", c.Bads)
	}
	in := `{"Records":[{"eventTime":"2024-01-01T00:00:00Z","eventName":"ConsoleLogin","eventType":"AwsConsoleSignIn",
"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"userName":"ops"}}},
"responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"},"readOnly":false,"x":1},
{"eventName":"NoTime"},
{"eventTime":"2024-01-01T00:00:01Z","eventName":"B","readOnly":"true"}]}`
	c = parseBytes(t, schema.CloudTrail, []byte(in), "ct.json")
	if len(c.Records) != 2 || len(c.Bads) != 1 || c.Bads[0].Line != 4 {
		t.Fatalf("%d %+v", len(c.Records), c.Bads)
	}
	if g(0, "user_name") != "ops" || g(0, "console_login") != "Failure" || g(0, "mfa_used") != "No" || g(0, "read_only") != false ||
		g(0, "extra_fields") != `{"x":1}` || g(1, "read_only") != true {
		t.Errorf("%+v", c.Records[0].Values)
	}
}

func TestContainer(t *testing.T) {
	c := parseFile(t, schema.Container, "../testdata/container/fluentbit_json_lines.log")
	g := func(i int, col string) any { return get(t, schema.Container, c.Records[i], col) }
	want := []struct{ level, pod any }{{"INFO", "api-7d9f-1"}, {"ERROR", "api-7d9f-1"}, {"WARN", "worker-1"}, {"ERROR", "worker-1"}, {nil, nil}}
	for i, w := range want {
		if g(i, "level") != w.level || g(i, "pod") != w.pod {
			t.Errorf("record %d: level %v pod %v, want %v %v", i+1, g(i, "level"), g(i, "pod"), w.level, w.pod)
		}
	}
	if g(0, "time") != time.Date(2023, 11, 14, 22, 13, 20, 123456000, time.UTC) || g(0, "namespace") != "shop" ||
		g(0, "labels") != `{"app":"api"}` {
		t.Errorf("record 1: %+v", c.Records[0].Values)
	}
	if c.Bads[0].Line != 6 || !strings.Contains(c.Bads[0].Reason, "no time key") {
		t.Errorf("%+v", c.Bads)
	}
	c = parseFile(t, schema.Container, "../testdata/container/fluentbit_json_array.json")
	if g(2, "time") != time.Date(2024, 3, 1, 12, 0, 2, 0, time.UTC) || g(1, "level") != "ERROR" || g(2, "extra_fields") != `{"tag":"x"}` {
		t.Errorf("array: %+v", c.Records)
	}
	c = parseBytes(t, schema.Container, []byte("[{\"date\":1},\n{\"date\":\"bad\"},\n{\"date\":2}, oops]"), "a.json")
	if len(c.Records) != 2 || len(c.Bads) != 2 || c.Bads[0].Line != 2 || c.Bads[1].Line != 3 {
		t.Fatalf("%d %+v", len(c.Records), c.Bads)
	}
}

func TestReadErrorKeepsEarlierRecords(t *testing.T) {
	b := mustRead(t, "../testdata/alb/awsdocs_example-entries_2023.log")
	r := io_MultiReader(bytes.NewReader(b), errReader{})
	p, _ := New(schema.ALB)
	c := &Collect{}
	err := p.Parse(context.Background(), r, "t.log", c)
	var re *ReadError
	if !asReadError(err, &re) || re.Line != 7 || len(c.Records) != 7 {
		t.Fatalf("err=%v records=%d", err, len(c.Records))
	}
}
