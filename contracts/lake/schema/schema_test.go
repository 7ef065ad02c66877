package schema

import (
	"strings"
	"testing"
)

func TestSourcesWellFormed(t *testing.T) {
	names := map[string]bool{}
	for _, s := range Sources() {
		if names[s.Name] {
			t.Fatalf("duplicate source %s", s.Name)
		}
		names[s.Name] = true
		if s.TimeIndex() < 0 || s.Columns[s.TimeIndex()].Kind != Timestamp {
			t.Errorf("%s: time column must be a timestamp", s.Name)
		}
		if s.Index("extra_fields") < 0 {
			t.Errorf("%s: no extra_fields column (unknown input must be kept, not dropped)", s.Name)
		}
		for _, c := range s.Columns {
			if c.Description == "" || c.GlueType() == "unknown" || c.ParquetType() == "unknown" {
				t.Errorf("%s.%s incomplete: %+v", s.Name, c.Name, c)
			}
			if strings.ToLower(c.Name) != c.Name || strings.ContainsAny(c.Name, "- ") {
				t.Errorf("%s.%s: column names are lower snake case", s.Name, c.Name)
			}
		}
		if len(s.PartitionKeys) != 4 || s.PartitionKeys[0].Name != "account" || s.PartitionKeys[1].Name != "in_region" || s.PartitionKeys[2].Name != "dt" || s.PartitionKeys[3].Name != "hour" {
			t.Errorf("%s: partition keys %+v", s.Name, s.PartitionKeys)
		}
	}
	if len(names) != 6 {
		t.Fatalf("want 6 sources, got %v", names)
	}
	if _, err := Lookup("nope"); err == nil {
		t.Fatal("Lookup(nope) must fail")
	}
}

func TestDDL(t *testing.T) {
	s, err := Lookup(VPCFlow)
	if err != nil {
		t.Fatal(err)
	}
	ddl := DDL(s, "logs", "s3://lake/root/")
	for _, want := range []string{
		"CREATE EXTERNAL TABLE IF NOT EXISTS `logs`.`vpcflow`\n",
		"LOCATION 's3://lake/root/source=vpcflow/'\n",
		"TBLPROPERTIES ('table_type' = 'DELTA');\n",
		" end bigint,", " time timestamp,", "partitioned by account, in_region, dt, hour",
	} {
		if !strings.Contains(ddl, want) {
			t.Errorf("DDL lacks %q:\n%s", want, ddl)
		}
	}
	// Athena refuses anything but LOCATION and table_type in a Delta CREATE:
	// no column list, PARTITIONED BY or STORED AS before TBLPROPERTIES.
	stmt := ddl[strings.Index(ddl, "CREATE"):strings.Index(ddl, "TBLPROPERTIES")]
	for _, banned := range []string{"PARTITIONED BY", "STORED AS", "ROW FORMAT", "("} {
		if strings.Contains(stmt, banned) {
			t.Errorf("Delta CREATE contains %q:\n%s", banned, stmt)
		}
	}
}

func TestTablePropertiesMatchDDL(t *testing.T) {
	for _, s := range Sources() {
		ddl := DDL(s, "", "s3://b/p")
		for _, p := range TableProperties() {
			if !strings.Contains(ddl, "'"+p.Key+"' = '"+p.Value+"'") {
				t.Errorf("%s: DDL lacks %s", s.Name, p.Key)
			}
		}
		if !strings.Contains(ddl, "LOCATION '"+TableLocation(s, "s3://b/p/")+"'") {
			t.Errorf("%s: location", s.Name)
		}
	}
}

func TestPartitionValues(t *testing.T) {
	cases := []struct {
		key, account, region, reason string
	}{
		{"AWSLogs/123456789012/elasticloadbalancing/ap-northeast-2/2026/11/28/x.log.gz", "123456789012", "ap-northeast-2", "ELB delivery key"},
		{"alb/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/x", "123456789012", "us-east-1", "with a prefix"},
		{"cloudtrail/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/x.json.gz", "111122223333", "eu-west-1", "organization trail"},
		{"cloudfront/AWSLogs/123456789012/CloudFront/E123/x.gz", "123456789012", Unknown, "no region segment"},
		{"in/alb.log", Unknown, Unknown, "a local file"},
		{"AWSLogs/12345/x/y/z", Unknown, Unknown, "not an account id"},
	}
	for _, tc := range cases {
		a, r := FromKey(tc.key)
		if a != tc.account || r != tc.region {
			t.Errorf("%s: %s %s, want %s %s (%s)", tc.key, a, r, tc.account, tc.region, tc.reason)
		}
	}
	if Account("../x") != Unknown || Region("us-east-1/../../x") != Unknown || Region(Global) != Global {
		t.Error("partition values must be exact ids: they become path segments")
	}
	if r, a := FromARN("arn:aws:wafv2:ap-northeast-2:123456789012:regional/webacl/x/1"); r != "ap-northeast-2" || a != "123456789012" {
		t.Errorf("ARN: %s %s", r, a)
	}
}

// Partition keys are columns of the table too (Delta, Athena, DuckDB): one
// that shares a data column's name would shadow it (VPC has region,
// CloudTrail aws_region). The account/region hints name real columns.
func TestPartitionKeysDoNotShadowColumns(t *testing.T) {
	for _, s := range Sources() {
		for _, k := range s.PartitionKeys {
			if s.Index(k.Name) >= 0 {
				t.Errorf("%s: partition key %s is also a column", s.Name, k.Name)
			}
		}
		for _, hint := range []string{s.AccountFrom, s.RegionFrom} {
			if hint != "" && s.Index(hint) < 0 {
				t.Errorf("%s: account/region column %q does not exist", s.Name, hint)
			}
		}
	}
}
