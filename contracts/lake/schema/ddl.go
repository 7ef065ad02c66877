package schema

import (
	"fmt"
	"strings"
)

// DDL returns an Athena CREATE EXTERNAL TABLE statement for the source over
// Parquet files at location (s3://bucket/prefix, the lake root), with
// partition projection on source (a single-value enum), dt (date) and hour.
// dtStart is the first date of the projection range (yyyy-MM-dd).
func DDL(s *Source, database, location, dtStart string) string {
	location = strings.TrimRight(location, "/")
	var b strings.Builder
	table := s.Name
	if database != "" {
		table = fmt.Sprintf("`%s`.`%s`", database, s.Name)
	} else {
		table = fmt.Sprintf("`%s`", s.Name)
	}
	fmt.Fprintf(&b, "-- %s\nCREATE EXTERNAL TABLE IF NOT EXISTS %s (\n", s.Description, table)
	for i, c := range s.Columns {
		sep := ","
		if i == len(s.Columns)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  `%s` %s COMMENT '%s'%s\n", c.Name, c.GlueType(), strings.ReplaceAll(c.Description, "'", "''"), sep)
	}
	b.WriteString(")\nPARTITIONED BY (\n")
	for i, c := range s.PartitionKeys {
		sep := ","
		if i == len(s.PartitionKeys)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  `%s` %s%s\n", c.Name, c.GlueType(), sep)
	}
	b.WriteString(")\nSTORED AS PARQUET\n")
	fmt.Fprintf(&b, "LOCATION '%s'\n", TableLocation(s, location))
	b.WriteString("TBLPROPERTIES (\n")
	props := TableProperties(s, location, dtStart)
	for i, p := range props {
		sep := ","
		if i == len(props)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  '%s' = '%s'%s\n", p.Key, p.Value, sep)
	}
	b.WriteString(");\n")
	return b.String()
}

// Glue storage settings of every table (what "STORED AS PARQUET" means).
const (
	InputFormat          = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
	OutputFormat         = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	SerializationLibrary = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
)

// Property is one table parameter (TBLPROPERTIES / Glue Parameters).
type Property struct {
	Key, Value string
}

// TableLocation is the table's storage location under the lake root.
func TableLocation(s *Source, location string) string {
	return strings.TrimRight(location, "/") + "/source=" + s.Name + "/"
}

// TableProperties returns the table parameters, in DDL order: partition
// projection over source (single-value enum), dt (date yyyy-MM-dd from
// dtStart to NOW) and hour (00-23), and the storage location template.
// A Glue table built from these matches the DDL.
func TableProperties(s *Source, location, dtStart string) []Property {
	location = strings.TrimRight(location, "/")
	return []Property{
		{"projection.enabled", "true"},
		{"projection.source.type", "enum"},
		{"projection.source.values", s.Name},
		{"projection.dt.type", "date"},
		{"projection.dt.format", "yyyy-MM-dd"},
		{"projection.dt.range", dtStart + ",NOW"},
		{"projection.dt.interval", "1"},
		{"projection.dt.interval.unit", "DAYS"},
		{"projection.hour.type", "integer"},
		{"projection.hour.range", "0,23"},
		{"projection.hour.digits", "2"},
		{"storage.location.template", location + "/source=${source}/dt=${dt}/hour=${hour}/"},
		{"parquet.compression", "ZSTD"},
		{"classification", "parquet"},
		{"EXTERNAL", "TRUE"},
	}
}
