// Package schema defines, once, the columns of every log source in the
// lake: log-shipper's parsers fill records in this column order, its
// Parquet writer derives the file schema from it and its ddl command renders
// the Athena DDL; the DataLake composition function builds the Glue tables
// from the same definitions. It is a contract (contracts/README.md): the
// standard library only, no shared state.
package schema

import (
	"fmt"
	"time"
)

// Kind is the logical type of a column.
type Kind int

// Column kinds. Every column is nullable.
const (
	String    Kind = iota + 1
	Int            // 32-bit signed
	BigInt         // 64-bit signed
	Double         // IEEE 754 64-bit
	Bool           // boolean
	Timestamp      // UTC instant, microsecond precision
)

// Glue returns the Glue/Athena (Hive DDL) type name of the kind.
func (k Kind) Glue() string {
	switch k {
	case String:
		return "string"
	case Int:
		return "int"
	case BigInt:
		return "bigint"
	case Double:
		return "double"
	case Bool:
		return "boolean"
	case Timestamp:
		return "timestamp"
	}
	return "unknown"
}

// Parquet returns the Parquet physical type and logical annotation used by
// the writer for the kind.
func (k Kind) Parquet() string {
	switch k {
	case String:
		return "BYTE_ARRAY (STRING)"
	case Int:
		return "INT32"
	case BigInt:
		return "INT64"
	case Double:
		return "DOUBLE"
	case Bool:
		return "BOOLEAN"
	case Timestamp:
		return "INT64 (TIMESTAMP(MICROS,true))"
	}
	return "unknown"
}

// Column describes one column of a source table.
type Column struct {
	Name        string
	Kind        Kind
	Description string
}

// GlueType is the Glue/Athena type name of the column.
func (c Column) GlueType() string { return c.Kind.Glue() }

// ParquetType is the Parquet type of the column.
func (c Column) ParquetType() string { return c.Kind.Parquet() }

// Partition keys shared by every source: Hive-style paths
// account=<id>/in_region=<region>/dt=YYYY-MM-DD/hour=HH under the table root
// source=<name>/.
var partitionKeys = []Column{
	{Name: "account", Kind: String, Description: "AWS account the record belongs to (from the record, else the delivery key), or unknown"},
	{Name: "in_region", Kind: String, Description: "AWS region of the record (global for CloudFront), or unknown; not named region, which is a VPC Flow Logs column"},
	{Name: "dt", Kind: String, Description: "UTC date of the record time, yyyy-MM-dd"},
	{Name: "hour", Kind: String, Description: "UTC hour of the record time, 00-23"},
}

// SourceObject is the provenance column every table ends with: the input a
// row came from. The writer fills it (parsers leave it null); a grown or
// rewritten input replaces exactly its rows, also inside compacted files.
const SourceObject = "source_object"

var sourceObject = Column{Name: SourceObject, Kind: String, Description: "the input this row came from (s3://bucket/key or a file path)"}

// Source is one log source: its table name, columns and partition keys.
type Source struct {
	Name          string
	Description   string
	Columns       []Column
	PartitionKeys []Column
	// AccountFrom and RegionFrom name the columns that hold a record's
	// account and region (a plain value or an ARN); FixedRegion is the
	// region of a global service. Empty: the input's key decides.
	AccountFrom, RegionFrom, FixedRegion string
	index                                map[string]int
}

// Index returns the position of the named column, or -1.
func (s *Source) Index(name string) int {
	if i, ok := s.index[name]; ok {
		return i
	}
	return -1
}

// MustIndex returns the position of a column that must exist (a programming
// error otherwise).
func (s *Source) MustIndex(name string) int {
	i := s.Index(name)
	if i < 0 {
		panic(fmt.Sprintf("schema %s: no column %q", s.Name, name))
	}
	return i
}

// TimeIndex is the position of the "time" column every source has: the
// event time that decides the dt/hour partition.
func (s *Source) TimeIndex() int { return s.MustIndex("time") }

// NewRecord returns an all-null record shaped for this source.
func (s *Source) NewRecord() Record {
	return Record{Values: make([]Value, len(s.Columns))}
}

// Source names.
const (
	ALB        = "alb"
	VPCFlow    = "vpcflow"
	WAF        = "waf"
	CloudTrail = "cloudtrail"
	CloudFront = "cloudfront"
	Container  = "container"
)

// Sources returns every source, freshly built (callers may not share and
// mutate state through it).
func Sources() []*Source {
	defs := []*Source{albSource(), vpcSource(), wafSource(), cloudTrailSource(), cloudFrontSource(), containerSource()}
	for _, s := range defs {
		s.Columns = append(s.Columns, sourceObject)
		s.PartitionKeys = append([]Column(nil), partitionKeys...)
		s.index = make(map[string]int, len(s.Columns))
		for i, c := range s.Columns {
			if _, dup := s.index[c.Name]; dup {
				panic(fmt.Sprintf("schema %s: duplicate column %q", s.Name, c.Name))
			}
			s.index[c.Name] = i
		}
	}
	return defs
}

// Lookup returns the named source.
func Lookup(name string) (*Source, error) {
	for _, s := range Sources() {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown source %q", name)
}

// Names returns the source names in canonical order.
func Names() []string {
	var out []string
	for _, s := range Sources() {
		out = append(out, s.Name)
	}
	return out
}

// Value is one nullable cell. The zero Value is null.
type Value struct {
	Kind  Kind // 0 = null
	Str   string
	Int   int64 // Int, BigInt, Timestamp (Unix microseconds), Bool (0/1)
	Float float64
}

// Null reports whether the value is null.
func (v Value) Null() bool { return v.Kind == 0 }

// StringOf is a String value.
func StringOf(s string) Value { return Value{Kind: String, Str: s} }

// IntOf is an Int value.
func IntOf(n int64) Value { return Value{Kind: Int, Int: n} }

// BigIntOf is a BigInt value.
func BigIntOf(n int64) Value { return Value{Kind: BigInt, Int: n} }

// DoubleOf is a Double value.
func DoubleOf(f float64) Value { return Value{Kind: Double, Float: f} }

// TimeOf is a Timestamp value, kept to the microsecond.
func TimeOf(t time.Time) Value {
	return Value{Kind: Timestamp, Int: t.UnixMicro()}
}

// BoolOf is a Bool value.
func BoolOf(b bool) Value {
	if b {
		return Value{Kind: Bool, Int: 1}
	}
	return Value{Kind: Bool}
}

// Time returns a Timestamp value as time.Time (UTC).
func (v Value) Time() time.Time { return time.UnixMicro(v.Int).UTC() }

// Any returns the Go value (string, int64, float64, bool, time.Time or nil).
func (v Value) Any() any {
	switch v.Kind {
	case String:
		return v.Str
	case Int, BigInt:
		return v.Int
	case Double:
		return v.Float
	case Bool:
		return v.Int != 0
	case Timestamp:
		return v.Time()
	}
	return nil
}

// Record is one row of a source, Values aligned with Source.Columns.
type Record struct {
	Time   time.Time // event time: decides the partition
	Values []Value
}

// Clone returns a copy of r that shares no Values with it.
func (r Record) Clone() Record {
	return Record{Time: r.Time, Values: append([]Value(nil), r.Values...)}
}
