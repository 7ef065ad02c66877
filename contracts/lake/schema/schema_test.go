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
		if len(s.PartitionKeys) != 2 || s.PartitionKeys[0].Name != "dt" || s.PartitionKeys[1].Name != "hour" {
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
		" end bigint,", " time timestamp,", "partitioned by dt, hour",
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
