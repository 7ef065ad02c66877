package payload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"
)

// decodeJSON decodes exactly one JSON object from body into v, a pointer
// to a struct of schema sc, in one pass after json.Valid (see fields.go).
// Unknown fields are tolerated (see the package comment); type
// mismatches, syntax errors, a top-level value that is not an object,
// trailing data and invalid UTF-8 are DecodeErrors with a reason naming
// the offending field where possible.
func decodeJSON(body []byte, sc *schema, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return bad("empty body")
	}
	if body[0] != '{' {
		return bad("body must be a JSON object")
	}
	if !utf8.Valid(body) {
		return bad("body is not valid UTF-8")
	}
	if !json.Valid(body) {
		// Valid says only no; Unmarshal says where and why.
		var discard any
		err := json.Unmarshal(body, &discard)
		var se *json.SyntaxError
		if errors.As(err, &se) && strings.Contains(se.Error(), "after top-level value") {
			return bad("trailing data after the JSON object")
		}
		return &DecodeError{Reason: "malformed JSON", Err: describe(err)}
	}
	s := &scanner{data: body}
	return decodeObject(s, sc, reflect.ValueOf(v), "")
}

func describe(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var pe *time.ParseError
	switch {
	case errors.As(err, &te):
		return fmt.Errorf("field %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("syntax error at byte %d: %v", se.Offset, se)
	case errors.As(err, &pe):
		return fmt.Errorf("bad RFC 3339 time %q", pe.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("unexpected end of input")
	}
	return err
}

func checkStatus(field, s string) error {
	if s != "firing" && s != "resolved" {
		return bad("%s must be \"firing\" or \"resolved\", got %q", field, s)
	}
	return nil
}

// header holds the fields both senders share, already decoded.
type header struct {
	version, groupKey *string
	data              *template.Data
}

func (h header) check(wantVersion, sender string) error {
	if h.version == nil || *h.version == "" {
		return bad("version is required")
	}
	if *h.version != wantVersion {
		return bad("unsupported %s webhook version %q (want %q)", sender, *h.version, wantVersion)
	}
	if h.groupKey == nil || *h.groupKey == "" {
		return bad("groupKey is required")
	}
	if h.data == nil {
		return bad("status is required")
	}
	return checkStatus("status", h.data.Status)
}

// labelsFingerprint is the fallback fingerprint for old Alertmanager
// payloads without one: a hash of the sorted label set (not Prometheus'
// FNV fingerprint, but stable and collision-resistant).
func labelsFingerprint(labels template.KV) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\xff%s\xff", k, labels[k])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}
