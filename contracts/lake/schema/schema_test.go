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
		if len(s.PartitionKeys) != 3 || s.PartitionKeys[0].Name != "source" || s.PartitionKeys[1].Name != "dt" || s.PartitionKeys[2].Name != "hour" {
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
	ddl := DDL(s, "logs", "s3://lake/root/", "2024-01-01")
	for _, want := range []string{
		"CREATE EXTERNAL TABLE IF NOT EXISTS `logs`.`vpcflow` (",
		"  `end` bigint COMMENT",
		"  `time` timestamp COMMENT",
		"PARTITIONED BY (\n  `source` string,\n  `dt` string,\n  `hour` string\n)",
		"STORED AS PARQUET",
		"LOCATION 's3://lake/root/source=vpcflow/'",
		"'projection.source.values' = 'vpcflow'",
		"'projection.dt.range' = '2024-01-01,NOW'",
		"'storage.location.template' = 's3://lake/root/source=${source}/dt=${dt}/hour=${hour}/'",
	} {
		if !strings.Contains(ddl, want) {
			t.Errorf("DDL lacks %q:\n%s", want, ddl)
		}
	}
	if strings.Count(ddl, "COMMENT") != len(s.Columns) {
		t.Errorf("one line per column expected")
	}
}

func TestTablePropertiesMatchDDL(t *testing.T) {
	for _, s := range Sources() {
		ddl := DDL(s, "", "s3://b/p", "2025-01-01")
		for _, p := range TableProperties(s, "s3://b/p/", "2025-01-01") {
			if !strings.Contains(ddl, "'"+p.Key+"' = '"+p.Value+"'") {
				t.Errorf("%s: DDL lacks %s", s.Name, p.Key)
			}
		}
		if !strings.Contains(ddl, "LOCATION '"+TableLocation(s, "s3://b/p")+"'") {
			t.Errorf("%s: location", s.Name)
		}
	}
}
