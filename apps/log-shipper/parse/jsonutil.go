package parse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// MaxDocument bounds formats that are parsed as a whole document
// (CloudTrail files, JSON arrays).
const MaxDocument = 512 << 20

type objectFunc func(obj []byte, line int) (schema.Record, error)

// runJSONObjects reads one JSON object per line. A line holding just "{"
// starts a pretty-printed object that runs until the text is valid JSON
// (or the next line that is just "{", which quarantines the unfinished one).
func runJSONObjects(ctx context.Context, r io.Reader, file string, out Emitter, fn objectFunc) error {
	lr := newLineReader(r)
	var acc []byte
	accStart := 0
	flushBad := func(reason string) error {
		err := out.Bad(Bad{File: file, Line: accStart, Reason: reason, Raw: rawOf(acc)})
		acc = acc[:0]
		accStart = 0
		return err
	}
	handle := func(obj []byte, line int) error {
		rec, err := fn(obj, line)
		if err != nil {
			return out.Bad(Bad{File: file, Line: line, Reason: err.Error(), Raw: rawOf(obj)})
		}
		return out.Record(rec)
	}
	for {
		line, ok, err := lr.next()
		if err != nil {
			if accStart > 0 {
				if berr := flushBad("unterminated JSON object at end of input"); berr != nil {
					return berr
				}
			}
			return err
		}
		if !ok {
			if accStart > 0 {
				return flushBad("unterminated JSON object at end of input")
			}
			return nil
		}
		if lr.n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if lr.tooLong {
			if err := out.Bad(Bad{File: file, Line: lr.n, Reason: fmt.Sprintf("line longer than %d bytes", MaxLine), Raw: rawOf(line)}); err != nil {
				return err
			}
			continue
		}
		trimmed := bytes.TrimSpace(line)
		if accStart > 0 {
			if len(line) > 0 && line[0] == '{' { // an unindented "{" starts the next object
				if err := flushBad("unterminated JSON object"); err != nil {
					return err
				}
			} else {
				acc = append(acc, '\n')
				acc = append(acc, line...)
				if len(acc) > MaxLine {
					if err := flushBad(fmt.Sprintf("JSON object longer than %d bytes", MaxLine)); err != nil {
						return err
					}
					continue
				}
				if json.Valid(acc) {
					start := accStart
					obj := append([]byte(nil), acc...)
					acc, accStart = acc[:0], 0
					if err := handle(obj, start); err != nil {
						return err
					}
				}
				continue
			}
		}
		if len(trimmed) == 0 {
			continue
		}
		if string(trimmed) == "{" {
			acc = append(acc[:0], trimmed...)
			accStart = lr.n
			continue
		}
		if err := handle(trimmed, lr.n); err != nil {
			return err
		}
	}
}

// lineAt returns the 1-based line of a byte offset.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// LimitError is an input over a per-input limit: the input is quarantined
// whole and the run carries on.
type LimitError struct {
	What  string
	Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s larger than %d bytes (%d MiB), the most read whole", e.What, e.Limit, e.Limit>>20)
}

// readDocument reads a whole document, bounded by limit (MaxDocument when
// 0).
func readDocument(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = MaxDocument
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return data, &ReadError{Line: bytes.Count(data, []byte{'\n'}), Err: err}
	}
	if int64(len(data)) > limit {
		return nil, &LimitError{What: "JSON document", Limit: limit}
	}
	return data, nil
}

// DocumentLimiter is implemented by parsers that read a document whole;
// SetMaxDocument lowers their bound (tests, small pods).
type DocumentLimiter interface {
	SetMaxDocument(bytes int64)
}

// runJSONArray handles a document that is a JSON array of objects.
func runJSONArray(ctx context.Context, data []byte, file string, out Emitter, fn objectFunc) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return out.Bad(Bad{File: file, Line: 1, Reason: "invalid JSON array: " + err.Error(), Raw: rawOf(data)})
	}
	for n := 0; dec.More(); n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return out.Bad(Bad{File: file, Line: lineAt(data, start+1), Reason: "invalid JSON (rest of the array not parsed): " + err.Error(), Raw: rawOf(data[start:])})
		}
		line := lineAt(data, dec.InputOffset()-int64(len(raw)))
		rec, err := fn(raw, line)
		if err != nil {
			if berr := out.Bad(Bad{File: file, Line: line, Reason: err.Error(), Raw: rawOf(raw)}); berr != nil {
				return berr
			}
			continue
		}
		if err := out.Record(rec); err != nil {
			return err
		}
	}
	return nil
}

// object is a decoded JSON object with typed accessors.
type object map[string]json.RawMessage

func decodeObject(b []byte) (object, error) {
	var o object
	if err := json.Unmarshal(b, &o); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
		}
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if o == nil {
		return nil, errors.New("not a JSON object: null")
	}
	return o, nil
}

// str returns a string field (numbers and booleans are rendered as text).
func (o object) str(key string) schema.Value {
	raw, ok := o[key]
	if !ok {
		return schema.Value{}
	}
	return rawString(raw)
}

func rawString(raw json.RawMessage) schema.Value {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return schema.Value{}
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return schema.StringOf(s)
		}
	}
	return schema.StringOf(string(raw))
}

// json returns the compact JSON text of a field, or null when absent/null.
func (o object) json(key string) schema.Value {
	raw, ok := o[key]
	if !ok {
		return schema.Value{}
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return schema.Value{}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return schema.StringOf(string(raw))
	}
	return schema.StringOf(buf.String())
}

// num returns an integer field of the given kind; strings holding integers
// are accepted.
func (o object) num(key string, kind schema.Kind) (schema.Value, error) {
	raw, ok := o[key]
	if !ok || string(raw) == "null" {
		return schema.Value{}, nil
	}
	s := strings.Trim(string(raw), `"`)
	if s == "" || s == "-" {
		return schema.Value{}, nil
	}
	bits := 64
	if kind == schema.Int {
		bits = 32
	}
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int64(f)) {
			return schema.Value{}, fmt.Errorf("%s: invalid integer %s", key, clip(string(raw)))
		}
		n = int64(f)
	}
	return schema.Value{Kind: kind, Int: n}, nil
}

func (o object) boolean(key string) (schema.Value, error) {
	raw, ok := o[key]
	if !ok || string(raw) == "null" {
		return schema.Value{}, nil
	}
	switch strings.Trim(string(raw), `"`) {
	case "true":
		return schema.BoolOf(true), nil
	case "false":
		return schema.BoolOf(false), nil
	}
	return schema.Value{}, fmt.Errorf("%s: invalid boolean %s", key, clip(string(raw)))
}

func (o object) sub(key string) object {
	raw, ok := o[key]
	if !ok {
		return nil
	}
	var s object
	if json.Unmarshal(raw, &s) != nil {
		return nil
	}
	return s
}

// extra returns a JSON object of the keys not in known, or null.
func (o object) extra(known map[string]bool) schema.Value {
	var keys []string
	for k := range o {
		if !known[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return schema.Value{}
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		if json.Compact(&b, o[k]) != nil {
			b.Write(o[k])
		}
	}
	b.WriteByte('}')
	return schema.StringOf(b.String())
}

// parseTimeValue parses a JSON time: RFC 3339 text, or epoch seconds /
// milliseconds (heuristic on magnitude) as a number or numeric string.
func parseTimeValue(raw json.RawMessage) (time.Time, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return time.Time{}, errors.New("missing")
	}
	if s[0] == '"' {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return time.Time{}, err
		}
		if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
			return t.UTC(), nil
		}
		s = str
	}
	intPart, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || len(frac) > 9 || strings.Trim(frac, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("invalid time %s", clip(s))
	}
	switch {
	case n > 1e17: // nanoseconds
		return time.Unix(0, n).UTC(), nil
	case n > 1e14: // microseconds
		return time.UnixMicro(n).UTC(), nil
	case n > 1e11: // milliseconds
		return time.UnixMilli(n).UTC(), nil
	}
	var nanos int64
	if frac != "" {
		nanos, _ = strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	}
	return time.Unix(n, nanos).Truncate(time.Microsecond).UTC(), nil
}
