package parse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// albMinFields is the fewest fields accepted: through error_reason, which
// every ALB log since 2018 carries. Fields after that are optional, and
// unknown trailing fields are kept in extra_fields (AWS: "ignore any fields
// at the end of the log entry that you were not expecting").
const albMinFields = 25

// albKnownFields is how many leading fields map to named columns.
const albKnownFields = 33

var albTypes = map[string]bool{"http": true, "https": true, "h2": true, "grpcs": true, "ws": true, "wss": true}

// ALB parses Application Load Balancer access logs.
type ALB struct {
	src *schema.Source
	col albCols
	rec schema.Record // reused by Parse: emitters copy what they keep
}

type albCols struct {
	typ, time, elb, clientIP, clientPort, targetIP, targetPort, reqT, tgtT, respT,
	elbStatus, tgtStatus, recv, sent, verb, url, proto, ua, cipher, sslProto,
	tgArn, trace, domain, cert, prio, created, actions, redirect, errReason,
	tpl, tscl, class, classReason, connTrace, tHost, tURI, tStatus, extra int
}

// NewALB returns the ALB parser for the ALB source.
func NewALB(s *schema.Source) *ALB {
	m := s.MustIndex
	return &ALB{src: s, col: albCols{
		typ: m("type"), time: m("time"), elb: m("elb"), clientIP: m("client_ip"), clientPort: m("client_port"),
		targetIP: m("target_ip"), targetPort: m("target_port"), reqT: m("request_processing_time"),
		tgtT: m("target_processing_time"), respT: m("response_processing_time"), elbStatus: m("elb_status_code"),
		tgtStatus: m("target_status_code"), recv: m("received_bytes"), sent: m("sent_bytes"), verb: m("request_verb"),
		url: m("request_url"), proto: m("request_proto"), ua: m("user_agent"), cipher: m("ssl_cipher"),
		sslProto: m("ssl_protocol"), tgArn: m("target_group_arn"), trace: m("trace_id"), domain: m("domain_name"),
		cert: m("chosen_cert_arn"), prio: m("matched_rule_priority"), created: m("request_creation_time"),
		actions: m("actions_executed"), redirect: m("redirect_url"), errReason: m("error_reason"),
		tpl: m("target_port_list"), tscl: m("target_status_code_list"), class: m("classification"),
		classReason: m("classification_reason"), connTrace: m("conn_trace_id"), tHost: m("transformed_host"),
		tURI: m("transformed_uri"), tStatus: m("request_transform_status"), extra: m("extra_fields"),
	}}
}

// Source implements Parser.
func (p *ALB) Source() *schema.Source { return p.src }

// Parse implements Parser.
func (p *ALB) Parse(ctx context.Context, r io.Reader, file string, out Emitter) error {
	var fields []string
	p.rec = p.src.NewRecord()
	return runLines(ctx, r, file, out, func(line []byte, _ int) (schema.Record, bool, error) {
		clear(p.rec.Values)
		f, err := p.parseLine(string(line), fields, &p.rec)
		fields = f
		return p.rec, true, err
	})
}

var errUnterminated = errors.New("unterminated quoted field")

// splitQuoted splits a space separated line whose fields may be double
// quoted. A quoted field ends at a quote followed by a space or the end of
// the line, so stray quotes inside a field survive; \" and \\ are unescaped.
func splitQuoted(s string, dst []string) ([]string, error) {
	dst = dst[:0]
	i := 0
	for i < len(s) {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] != '"' {
			j := strings.IndexByte(s[i:], ' ')
			if j < 0 {
				dst = append(dst, s[i:])
				break
			}
			dst = append(dst, s[i:i+j])
			i += j
			continue
		}
		// quoted
		start := i + 1
		j := start
		escaped := false
		for {
			k := strings.IndexByte(s[j:], '"')
			if k < 0 {
				return dst, errUnterminated
			}
			j += k
			if j > start && s[j-1] == '\\' && !isEscapedBackslash(s, start, j-1) {
				escaped = true
				j++
				continue
			}
			if j+1 == len(s) || s[j+1] == ' ' {
				break
			}
			j++
		}
		v := s[start:j]
		if escaped || (strings.IndexByte(v, '\\') >= 0 && strings.Contains(v, `\\`)) {
			v = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(v)
		}
		dst = append(dst, v)
		i = j + 1
	}
	return dst, nil
}

// isEscapedBackslash reports whether the backslash at pos is itself escaped
// (preceded by an odd run of backslashes).
func isEscapedBackslash(s string, start, pos int) bool {
	n := 0
	for k := pos - 1; k >= start && s[k] == '\\'; k-- {
		n++
	}
	return n%2 == 1
}

// ParseLine parses one ALB log line; fields is scratch space returned for reuse.
func (p *ALB) ParseLine(line string, fields []string) (schema.Record, []string, error) {
	rec := p.src.NewRecord()
	f, err := p.parseLine(line, fields, &rec)
	if err != nil {
		return schema.Record{}, f, err
	}
	return rec, f, nil
}

// parseLine fills rec (all null) from one line.
func (p *ALB) parseLine(line string, fields []string, rec *schema.Record) ([]string, error) {
	f, err := splitQuoted(line, fields)
	if err != nil {
		return f, err
	}
	if len(f) < albMinFields {
		return f, fmt.Errorf("alb: %d fields, want at least %d", len(f), albMinFields)
	}
	if !albTypes[f[0]] {
		return f, fmt.Errorf("alb: unknown request type %q", clip(f[0]))
	}
	c := &p.col
	v := rec.Values
	var errs []error
	set := func(i int, val schema.Value, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		v[i] = val
	}
	v[c.typ] = schema.StringOf(f[0])
	tv, t, err := ts("time", f[1])
	if err == nil && tv.Null() {
		err = errors.New("time: missing")
	}
	set(c.time, tv, err)
	rec.Time = t
	v[c.elb] = str(f[2])
	ip, port, err := hostPort("client:port", f[3])
	set(c.clientIP, ip, err)
	v[c.clientPort] = port
	ip, port, err = hostPort("target:port", f[4])
	set(c.targetIP, ip, err)
	v[c.targetPort] = port
	val, err := f64("request_processing_time", f[5])
	set(c.reqT, val, err)
	val, err = f64("target_processing_time", f[6])
	set(c.tgtT, val, err)
	val, err = f64("response_processing_time", f[7])
	set(c.respT, val, err)
	val, err = i32("elb_status_code", f[8])
	set(c.elbStatus, val, err)
	val, err = i32("target_status_code", f[9])
	set(c.tgtStatus, val, err)
	val, err = i64("received_bytes", f[10])
	set(c.recv, val, err)
	val, err = i64("sent_bytes", f[11])
	set(c.sent, val, err)
	verb, url, proto := splitRequest(f[12])
	v[c.verb], v[c.url], v[c.proto] = str(verb), str(url), str(proto)
	v[c.ua] = str(f[13])
	v[c.cipher] = str(f[14])
	v[c.sslProto] = str(f[15])
	v[c.tgArn] = str(f[16])
	v[c.trace] = str(f[17])
	v[c.domain] = str(f[18])
	v[c.cert] = str(f[19])
	val, err = i32("matched_rule_priority", f[20])
	set(c.prio, val, err)
	val, _, err = ts("request_creation_time", f[21])
	set(c.created, val, err)
	v[c.actions] = str(f[22])
	v[c.redirect] = str(f[23])
	v[c.errReason] = str(f[24])
	optional := []int{c.tpl, c.tscl, c.class, c.classReason, c.connTrace, c.tHost, c.tURI, c.tStatus}
	for k, col := range optional {
		if 25+k < len(f) {
			v[col] = str(f[25+k])
		}
	}
	if len(f) > albKnownFields {
		v[c.extra] = schema.StringOf(strings.Join(f[albKnownFields:], " "))
	}
	if len(errs) > 0 {
		return f, fmt.Errorf("alb: %s", joinErrs(errs))
	}
	return f, nil
}

// splitRequest splits "VERB URL PROTO" at the first and last space.
func splitRequest(s string) (verb, url, proto string) {
	i := strings.IndexByte(s, ' ')
	j := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return "", s, ""
	}
	if i == j {
		return s[:i], s[i+1:], ""
	}
	return s[:i], s[i+1 : j], s[j+1:]
}
