package payload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/prometheus/alertmanager/template"
)

// decodeOptions are encoding/json's semantics (case-insensitive keys, the
// last duplicate wins, maps merged, invalid UTF-8 in escapes replaced) on
// json/v2's streaming decoder, with v2's errors: they name the field by
// JSON pointer, and decoding stops at the first one instead of first
// validating the whole body in a pass of its own.
var decodeOptions = json.JoinOptions(jsonv1.DefaultOptionsV1(), jsonv1.ReportErrorsWithLegacySemantics(false))

// decodeJSON decodes exactly one JSON object from body into v in one
// streaming pass. Unknown fields are tolerated (see the package comment);
// type mismatches, syntax errors, a top-level value that is not an
// object, trailing data and invalid UTF-8 are DecodeErrors with a reason
// naming the offending field where possible.
func decodeJSON(body []byte, v any) error {
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
	err := json.Unmarshal(body, v, decodeOptions)
	if err == nil {
		return nil
	}
	// A check of alertStream's, returned through the library.
	var de *DecodeError
	if errors.As(err, &de) {
		return de
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) && strings.Contains(se.Error(), "after top-level value") {
		return bad("trailing data after the JSON object")
	}
	return &DecodeError{Reason: "malformed JSON", Err: describe(err)}
}

// describe turns the library's errors into a reason for the sender: the
// field as alerts[3].labels.alertname, what was expected, where.
func describe(err error) error {
	var sem *json.SemanticError
	var syn *jsontext.SyntacticError
	var pe *time.ParseError
	switch {
	case errors.As(err, &pe):
		return fmt.Errorf("field %q: bad RFC 3339 time %q", fieldOf(pointerOf(err)), pe.Value)
	case errors.As(err, &sem):
		what := "a different JSON value"
		if sem.GoType != nil {
			what = sem.GoType.String()
		}
		got := kindName(sem.JSONKind)
		if sem.JSONValue != nil {
			got += " " + string(sem.JSONValue)
		}
		msg := fmt.Sprintf("field %q: expected %s, got JSON %s", fieldOf(sem.JSONPointer), what, got)
		var ne *strconv.NumError
		if sem.Err != nil && !errors.As(sem.Err, &ne) { // a NumError only repeats the value
			msg += ": " + sem.Err.Error()
		}
		return errors.New(msg)
	case errors.As(err, &syn):
		if errors.Is(syn.Err, io.ErrUnexpectedEOF) {
			return errors.New("unexpected end of input")
		}
		return fmt.Errorf("syntax error at byte %d: %v", syn.ByteOffset, syn.Err)
	}
	return err
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 0:
		return "value"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return k.String()
}

func pointerOf(err error) jsontext.Pointer {
	var sem *json.SemanticError
	if errors.As(err, &sem) {
		return sem.JSONPointer
	}
	return ""
}

// fieldOf renders a JSON pointer the way the rest of the reasons name
// fields: /alerts/3/labels/a~1b is alerts[3].labels.a/b.
func fieldOf(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.ParseUint(tok, 10, 64); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
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
