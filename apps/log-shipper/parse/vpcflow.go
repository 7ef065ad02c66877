package parse

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// vpcDefaultFields is the default (version 2) format, used when a file has
// no header line.
var vpcDefaultFields = []string{"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end", "action", "log-status"}

// VPCFlow parses VPC Flow Logs. The first line of an S3 flow log file names
// the fields (custom formats choose any subset in any order), and a header
// line later in the file switches to its fields; without one the default v2
// format is assumed. Field names may use hyphens (S3 header) or
// underscores.
type VPCFlow struct {
	src *schema.Source
	// Format overrides the header/default field list when non-empty.
	Format []string
	// FallbackTime is used for records of formats without start and end
	// (e.g. the hour in the S3 object name); zero quarantines them.
	FallbackTime time.Time
}

// Source implements Parser.
func (p *VPCFlow) Source() *schema.Source { return p.src }

type vpcCol struct {
	name string
	col  int // -1: unknown field, kept in extra_fields
	kind schema.Kind
}

func (p *VPCFlow) layout(names []string) []vpcCol {
	out := make([]vpcCol, len(names))
	for i, n := range names {
		cn := strings.ReplaceAll(strings.ToLower(n), "-", "_")
		c := p.src.Index(cn)
		if cn == "time" || cn == "extra_fields" {
			c = -1
		}
		k := schema.String
		if c >= 0 {
			k = p.src.Columns[c].Kind
		}
		out[i] = vpcCol{name: cn, col: c, kind: k}
	}
	return out
}

// isVPCHeader reports whether a line is a field-name header: every token
// is a lower-case name (data lines carry numbers, "-" or upper-case words)
// and at least one is a known field.
func (p *VPCFlow) isVPCHeader(fields []string) bool {
	known, ok := p.headerTokens(fields)
	return ok && known > 0
}

// isLaterHeader is the stricter test for a header after the first line
// (concatenated files, a format change): most of its tokens must be known
// fields, so that a data line of name-like values (eni-..., ingress) never
// switches the layout.
func (p *VPCFlow) isLaterHeader(fields []string) bool {
	known, ok := p.headerTokens(fields)
	return ok && known*2 > len(fields)
}

func (p *VPCFlow) headerTokens(fields []string) (known int, ok bool) {
	for _, f := range fields {
		if !headerToken.MatchString(f) {
			return 0, false
		}
		cn := strings.ReplaceAll(f, "-", "_")
		if p.src.Index(cn) >= 0 && cn != "time" && cn != "extra_fields" {
			known++
		}
	}
	return known, true
}

var headerToken = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// Parse implements Parser.
func (p *VPCFlow) Parse(ctx context.Context, r io.Reader, file string, out Emitter) error {
	var cols []vpcCol
	if len(p.Format) > 0 {
		cols = p.layout(p.Format)
	}
	startCol, endCol := p.src.MustIndex("start"), p.src.MustIndex("end")
	extraCol := p.src.MustIndex("extra_fields")
	return runLines(ctx, r, file, out, func(line []byte, _ int) (schema.Record, bool, error) {
		fields := strings.Fields(string(line))
		// A header switches the layout wherever it appears: the first line of
		// every S3 flow log file, and again inside concatenated files or
		// after a format change.
		if (cols == nil && p.isVPCHeader(fields)) || (cols != nil && p.isLaterHeader(fields)) {
			cols = p.layout(fields)
			skipped(out, SkipVPCHeader)
			return schema.Record{}, false, nil
		}
		if cols == nil {
			cols = p.layout(vpcDefaultFields)
		}
		if len(fields) != len(cols) {
			return schema.Record{}, false, fmt.Errorf("vpcflow: %d fields, header/format has %d", len(fields), len(cols))
		}
		rec := p.src.NewRecord()
		var extra map[string]string
		var errs []error
		for i, c := range cols {
			raw := fields[i]
			if c.col < 0 {
				if !isNull(raw) {
					if extra == nil {
						extra = map[string]string{}
					}
					extra[c.name] = raw
				}
				continue
			}
			var v schema.Value
			var err error
			switch c.kind {
			case schema.Int:
				v, err = i32(c.name, raw)
			case schema.BigInt:
				v, err = i64(c.name, raw)
			default:
				v = str(raw)
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			rec.Values[c.col] = v
		}
		if len(errs) > 0 {
			return schema.Record{}, false, fmt.Errorf("vpcflow: %s", joinErrs(errs))
		}
		if extra != nil {
			b, _ := json.Marshal(extra) // map keys are sorted: deterministic
			rec.Values[extraCol] = schema.StringOf(string(b))
		}
		switch {
		case !rec.Values[startCol].Null():
			rec.Time = time.Unix(rec.Values[startCol].Int, 0).UTC()
		case !rec.Values[endCol].Null():
			rec.Time = time.Unix(rec.Values[endCol].Int, 0).UTC()
		case !p.FallbackTime.IsZero():
			rec.Time = p.FallbackTime.UTC()
		default:
			return schema.Record{}, false, fmt.Errorf("vpcflow: no start or end time (format without start/end and no time in the file name)")
		}
		rec.Values[p.src.TimeIndex()] = schema.TimeOf(rec.Time)
		return rec, true, nil
	})
}
