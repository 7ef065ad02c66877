package parse

import (
	"strings"
	"testing"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// Two AWS doc flow-log files concatenated: the second header (a different,
// longer field list) must switch the layout, not be quarantined, and the
// v5 record's pkt-srcaddr must land in pkt_srcaddr, not srcaddr.
func TestVPCFlowHeaderMidFile(t *testing.T) {
	v2 := string(mustRead(t, "../testdata/vpcflow/awsdocs_v2-default_with-header.log"))
	v5 := string(mustRead(t, "../testdata/vpcflow/awsdocs_v5-traffic-path_with-header.log"))
	in := strings.TrimRight(v2, "\n") + "\n" + v5
	c := parseBytes(t, schema.VPCFlow, []byte(in), "concat.log")
	if len(c.Bads) != 0 || len(c.Records) != 9 || c.Skips[SkipVPCHeader] != 2 {
		t.Fatalf("records %d, bad %+v, skips %v: want 9 records, 0 bad, 2 headers", len(c.Records), c.Bads, c.Skips)
	}
	r := c.Records[8] // second v5 record: 10.0.0.71 -> 52.95.128.179, pkt fields swapped
	if get(t, schema.VPCFlow, r, "srcaddr") != "10.0.0.71" || get(t, schema.VPCFlow, r, "pkt_srcaddr") != "10.0.0.71" ||
		get(t, schema.VPCFlow, r, "pkt_dst_aws_service") != "S3" || get(t, schema.VPCFlow, r, "traffic_path") != int64(8) {
		t.Errorf("v5 record after the second header mis-mapped: %+v", r.Values)
	}
	if get(t, schema.VPCFlow, c.Records[0], "account_id") != "123456789010" || get(t, schema.VPCFlow, c.Records[0], "pkt_srcaddr") != nil {
		t.Errorf("v2 record: %+v", c.Records[0].Values)
	}
}

func TestVPCFlowHeaderLikeDataIsData(t *testing.T) {
	cases := []struct {
		name, in     string
		records, bad int
		reason       string
	}{
		{"values that look like names", "interface-id flow-direction\neni-0abc ingress\neni-0def egress\n", 2, 0,
			"eni-0abc ingress has no known field name: data, not a header"},
		{"a header after data", "interface-id flow-direction\neni-0abc ingress\nflow-direction interface-id\negress eni-0def\n", 2, 0,
			"the reordered header switches the layout"},
	}
	for _, tc := range cases {
		p := &VPCFlow{src: mustSource(schema.VPCFlow), FallbackTime: TimeFromName("x_20240102T0305Z_y")}
		c := &Collect{}
		if err := p.Parse(t.Context(), strings.NewReader(tc.in), "f", c); err != nil {
			t.Fatal(err)
		}
		if len(c.Records) != tc.records || len(c.Bads) != tc.bad {
			t.Errorf("%s: %d records %+v bad; want %d, %d (%s)", tc.name, len(c.Records), c.Bads, tc.records, tc.bad, tc.reason)
		}
		if tc.records == 2 && get(t, schema.VPCFlow, c.Records[1], "interface_id") != "eni-0def" {
			t.Errorf("%s: %+v (%s)", tc.name, c.Records[1].Values, tc.reason)
		}
	}
}

func TestCloudFrontDirectivesCounted(t *testing.T) {
	in := "#Version: 1.0\n#Fields: date time cs-uri-stem\n2024-02-03\t01:02:03\t/a\n#Version: 1.0\n#Remark: rotated\n#Fields: time date cs-uri-stem\n01:02:04\t2024-02-03\t/b\n"
	c := parseBytes(t, schema.CloudFront, []byte(in), "cf.log")
	if len(c.Records) != 2 || len(c.Bads) != 0 || c.Skips[SkipCFFields] != 2 || c.Skips[SkipCFDirective] != 3 {
		t.Fatalf("records %d bad %+v skips %v", len(c.Records), c.Bads, c.Skips)
	}
	if get(t, schema.CloudFront, c.Records[1], "cs_uri_stem") != "/b" {
		t.Errorf("second #Fields not applied: %+v", c.Records[1].Values)
	}
}

func TestCheckContent(t *testing.T) {
	waf := mustRead(t, "../testdata/waf/awsdocs_examples_compacted.jsonl")
	ct := mustRead(t, "../testdata/cloudtrail/awsdocs_ec2-StartInstances.json")
	alb := mustRead(t, "../testdata/alb/awsdocs_example-entries_2023.log")
	cont := mustRead(t, "../testdata/container/fluentbit_json_lines.log")
	cases := []struct {
		source string
		head   []byte
		ok     bool
		reason string
	}{
		{schema.Container, waf, false, "WAF JSON is not container logs"},
		{schema.Container, ct, false, "a CloudTrail file is not container logs"},
		{schema.VPCFlow, alb, false, "ALB lines are not flow logs"},
		{schema.WAF, cont, false, "Fluent Bit records are not WAF logs"},
		{schema.Container, cont, true, "the right type"},
		{schema.VPCFlow, []byte("2 1 eni-1 - - - - - - - 1 2 - NODATA\n"), true, "flow-log data is flow logs"},
		{schema.VPCFlow, []byte("eni-1 ingress\n"), true, "undetectable content goes to the parser"},
	}
	for _, tc := range cases {
		err := CheckContent(tc.source, tc.head)
		if (err == nil) != tc.ok {
			t.Errorf("CheckContent(%s): %v; want ok=%v (%s)", tc.source, err, tc.ok, tc.reason)
		}
	}
}

func TestContainerRejectsForeignRecords(t *testing.T) {
	waf := mustRead(t, "../testdata/waf/awsdocs_examples_compacted.jsonl")
	c := parseBytes(t, schema.Container, waf, "waf-as-container")
	if len(c.Records) != 0 || len(c.Bads) == 0 || !strings.Contains(c.Bads[0].Reason, "WAF log record") {
		t.Fatalf("WAF records accepted as container logs: %d records, %+v", len(c.Records), c.Bads)
	}
}
