package schema

import (
	"fmt"
	"strings"
)

// TableFormat is the table format of every curated table: Delta Lake.
// Athena (engine 3) reads Delta tables natively through Glue; log-shipper's
// DuckDB views replay the same transaction log.
const TableFormat = "DELTA"

// DDL returns the Athena statement that registers a source's Delta table
// at location (s3://bucket/prefix, the lake root). Athena infers columns and
// partitions from the Delta log and allows nothing but LOCATION and
// table_type in this statement (Athena user guide, "Get started with Delta
// Lake tables"); the schema is in the comment for the reader.
func DDL(s *Source, database, location string) string {
	var b strings.Builder
	table := fmt.Sprintf("`%s`", s.Name)
	if database != "" {
		table = fmt.Sprintf("`%s`.`%s`", database, s.Name)
	}
	fmt.Fprintf(&b, "-- %s\n-- columns (from the Delta log):", s.Description)
	for _, c := range s.Columns {
		fmt.Fprintf(&b, " %s %s,", c.Name, c.GlueType())
	}
	b.WriteString(" partitioned by")
	for i, c := range s.PartitionKeys {
		sep := ","
		if i == len(s.PartitionKeys)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, " %s%s", c.Name, sep)
	}
	fmt.Fprintf(&b, "\nCREATE EXTERNAL TABLE IF NOT EXISTS %s\nLOCATION '%s'\nTBLPROPERTIES (", table, TableLocation(s, location))
	for i, p := range TableProperties() {
		sep := ", "
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s'%s' = '%s'", sep, p.Key, p.Value)
	}
	b.WriteString(");\n")
	return b.String()
}

// Glue storage settings of every table: the data files are Parquet. Athena
// reads a Delta table by its table_type and location; these keep Hive-style
// tools that look at the storage descriptor reading Parquet.
const (
	InputFormat          = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
	OutputFormat         = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	SerializationLibrary = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
)

// Property is one table parameter (TBLPROPERTIES / Glue Parameters).
type Property struct {
	Key, Value string
}

// TableLocation is the table's root (where its _delta_log is) under the
// lake root.
func TableLocation(s *Source, location string) string {
	return strings.TrimRight(location, "/") + "/source=" + s.Name + "/"
}

// TableProperties returns the table parameters of every curated table, in
// DDL order; a Glue table built from these matches the DDL.
func TableProperties() []Property {
	return []Property{{"table_type", TableFormat}}
}
