package parse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// Container parses container log records as Fluent Bit's http output posts
// them: format json_lines (one object per line) or json (an array). The
// time comes from the date key (json_date_key, default "date"; epoch
// seconds as a double, or ISO 8601), else "time", "@timestamp", "timestamp".
type Container struct {
	src    *schema.Source
	maxDoc int64
}

// SetMaxDocument implements DocumentLimiter.
func (p *Container) SetMaxDocument(n int64) { p.maxDoc = n }

// Source implements Parser.
func (p *Container) Source() *schema.Source { return p.src }

var containerTimeKeys = []string{"date", "time", "@timestamp", "timestamp"}

var containerKnown = map[string]bool{"date": true, "time": true, "@timestamp": true, "timestamp": true,
	"log": true, "message": true, "stream": true, "level": true, "severity": true, "kubernetes": true}

var levelWord = regexp.MustCompile(`(?i)^\W{0,2}(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|PANIC)\b`)
var levelKV = regexp.MustCompile(`(?i)\blevel=("?)(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|PANIC)\b`)

// Parse implements Parser.
func (p *Container) Parse(ctx context.Context, r io.Reader, file string, out Emitter) error {
	br := bufio.NewReaderSize(r, 64<<10)
	first, _ := br.Peek(512)
	if t := bytes.TrimLeft(first, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		data, err := readDocument(br, p.maxDoc)
		if data == nil && err != nil {
			return err
		}
		if aerr := runJSONArray(ctx, data, file, out, func(b []byte, _ int) (schema.Record, error) { return p.ParseObject(b) }); aerr != nil {
			return aerr
		}
		return err
	}
	return runJSONObjects(ctx, br, file, out, func(b []byte, _ int) (schema.Record, error) { return p.ParseObject(b) })
}

// ParseObject parses one Fluent Bit record.
func (p *Container) ParseObject(b []byte) (schema.Record, error) {
	o, err := decodeObject(b)
	if err != nil {
		return schema.Record{}, fmt.Errorf("container: %w", err)
	}
	if err := foreignRecord(o); err != nil {
		return schema.Record{}, err
	}
	s := p.src
	rec := s.NewRecord()
	set := func(col string, val schema.Value) { rec.Values[s.MustIndex(col)] = val }
	found := false
	for _, k := range containerTimeKeys {
		raw, ok := o[k]
		if !ok || string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		t, err := parseTimeValue(raw)
		if err != nil {
			return schema.Record{}, fmt.Errorf("container: %s: %v", k, err)
		}
		rec.Time, found = t, true
		break
	}
	if !found {
		return schema.Record{}, fmt.Errorf("container: no time key (date, time, @timestamp or timestamp)")
	}
	set("time", schema.TimeOf(rec.Time))
	msg := o.str("log")
	if msg.Null() {
		msg = o.str("message")
	}
	set("log", msg)
	set("stream", o.str("stream"))
	level := o.str("level")
	if level.Null() {
		level = o.str("severity")
	}
	if level.Null() && !msg.Null() {
		level = levelOf(msg.Str)
	}
	if !level.Null() {
		level = schema.StringOf(normalizeLevel(level.Str))
	}
	set("level", level)
	if k := o.sub("kubernetes"); k != nil {
		set("namespace", k.str("namespace_name"))
		set("pod", k.str("pod_name"))
		set("container", k.str("container_name"))
		set("container_image", k.str("container_image"))
		set("host", k.str("host"))
		set("labels", k.json("labels"))
	}
	set("extra_fields", o.extra(containerKnown))
	return rec, nil
}

// foreignRecord rejects a record that is another source's log: every JSON
// object with a time key would otherwise pass as a container record.
func foreignRecord(o object) error {
	switch {
	case o["webaclId"] != nil && o["action"] != nil:
		return fmt.Errorf("container: a WAF log record (webaclId, action), not a container log")
	case o["eventVersion"] != nil && o["eventSource"] != nil:
		return fmt.Errorf("container: a CloudTrail event (eventVersion, eventSource), not a container log")
	case o["Records"] != nil:
		return fmt.Errorf("container: a CloudTrail log file (Records), not a container log")
	}
	return nil
}

// levelOf finds a level in a log line: a "level" key of a JSON payload, a
// level=X pair, or a leading level word.
func levelOf(line string) schema.Value {
	t := strings.TrimSpace(line)
	if strings.HasPrefix(t, "{") {
		var payload map[string]json.RawMessage
		if json.Unmarshal([]byte(t), &payload) == nil {
			for _, k := range []string{"level", "severity", "lvl"} {
				if v := rawString(payload[k]); !v.Null() {
					return v
				}
			}
		}
	}
	if m := levelKV.FindStringSubmatch(t); m != nil {
		return schema.StringOf(m[2])
	}
	if m := levelWord.FindStringSubmatch(t); m != nil {
		return schema.StringOf(m[1])
	}
	return schema.Value{}
}

func normalizeLevel(l string) string {
	switch u := strings.ToUpper(strings.TrimSpace(l)); u {
	case "WARNING":
		return "WARN"
	case "ERR":
		return "ERROR"
	case "CRIT":
		return "CRITICAL"
	default:
		return u
	}
}
