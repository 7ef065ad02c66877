package parse

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// CloudFront parses CloudFront standard (legacy) access logs: tab separated,
// the "#Fields:" directive names the columns (the set grew over time), some
// values URL-encoded.
type CloudFront struct {
	src *schema.Source
}

// Source implements Parser.
func (p *CloudFront) Source() *schema.Source { return p.src }

// cloudFrontDecoded are the fields CloudFront URL-encodes and we decode.
var cloudFrontDecoded = map[string]bool{"cs_uri_stem": true, "cs_referer": true, "cs_user_agent": true, "cs_cookie": true}

// cloudFrontFields is the field list of the 33-field format, used when a file
// has no #Fields directive.
var cloudFrontFields = strings.Fields("date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end")

// cfColumnName maps "cs(User-Agent)" to "cs_user_agent", "x-edge-location" to "x_edge_location".
func cfColumnName(f string) string {
	r := strings.NewReplacer("(", "_", ")", "", "-", "_")
	return strings.ToLower(r.Replace(f))
}

// Parse implements Parser.
func (p *CloudFront) Parse(ctx context.Context, r io.Reader, file string, out Emitter) error {
	var names []string
	var cols []int
	layout := func(fields []string) {
		names = make([]string, len(fields))
		cols = make([]int, len(fields))
		for i, f := range fields {
			names[i] = cfColumnName(f)
			cols[i] = p.src.Index(names[i])
			if names[i] == "time" || names[i] == "extra_fields" {
				cols[i] = -1
			}
		}
	}
	extraCol := p.src.MustIndex("extra_fields")
	return runLines(ctx, r, file, out, func(line []byte, _ int) (schema.Record, bool, error) {
		s := string(line)
		if strings.HasPrefix(s, "#") {
			if rest, ok := strings.CutPrefix(s, "#Fields:"); ok {
				layout(strings.Fields(rest))
				skipped(out, SkipCFFields)
			} else {
				skipped(out, SkipCFDirective) // #Version and any other directive
			}
			return schema.Record{}, false, nil
		}
		if names == nil {
			layout(cloudFrontFields)
		}
		vals := strings.Split(s, "\t")
		if len(vals) < len(names) {
			return schema.Record{}, false, fmt.Errorf("cloudfront: %d fields, #Fields has %d", len(vals), len(names))
		}
		rec := p.src.NewRecord()
		var date, clock string
		var extra map[string]string
		var errs []error
		for i, raw := range vals {
			if i >= len(names) {
				if raw != "" && raw != "-" {
					if extra == nil {
						extra = map[string]string{}
					}
					extra[fmt.Sprintf("field_%d", i+1)] = raw
				}
				continue
			}
			name := names[i]
			switch name {
			case "date":
				date = raw
				continue
			case "time":
				clock = raw
				continue
			}
			if cols[i] < 0 {
				if !isNull(raw) {
					if extra == nil {
						extra = map[string]string{}
					}
					extra[name] = raw
				}
				continue
			}
			var v schema.Value
			var err error
			switch p.src.Columns[cols[i]].Kind {
			case schema.Int:
				if name == "sc_status" && raw == "000" {
					break // viewer closed the connection: no status
				}
				v, err = i32(name, raw)
			case schema.BigInt:
				v, err = i64(name, raw)
			case schema.Double:
				v, err = f64(name, raw)
			default:
				if cloudFrontDecoded[name] && strings.IndexByte(raw, '%') >= 0 {
					if d, derr := url.PathUnescape(raw); derr == nil {
						raw = d
					}
				}
				v = str(raw)
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			rec.Values[cols[i]] = v
		}
		if len(errs) > 0 {
			return schema.Record{}, false, fmt.Errorf("cloudfront: %s", joinErrs(errs))
		}
		t, err := time.Parse("2006-01-02 15:04:05", date+" "+clock)
		if err != nil {
			return schema.Record{}, false, fmt.Errorf("cloudfront: invalid date/time %q %q", clip(date), clip(clock))
		}
		rec.Time = t.UTC()
		rec.Values[p.src.TimeIndex()] = schema.TimeOf(rec.Time)
		if extra != nil {
			b, _ := json.Marshal(extra)
			rec.Values[extraCol] = schema.StringOf(string(b))
		}
		return rec, true, nil
	})
}
