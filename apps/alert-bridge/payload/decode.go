package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// decodeJSON decodes exactly one JSON object from body into v. Unknown
// fields are tolerated (see the package comment); type mismatches, syntax
// errors, a top-level value that is not an object and trailing data are
// DecodeErrors with a reason naming the offending field where possible.
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
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return &DecodeError{Reason: "malformed JSON", Err: describe(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad("trailing data after the JSON object")
	}
	return nil
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

// checkAlerts validates the per-alert required fields shared by both
// formats. fallbackFP computes a fingerprint when the sender sent none
// (nil: the fingerprint is required).
func checkAlerts(alerts []Alert, fallbackFP func(map[string]string) string) error {
	if len(alerts) == 0 {
		return bad("alerts must be a non-empty array")
	}
	for i := range alerts {
		a := &alerts[i]
		if err := checkStatus(fmt.Sprintf("alerts[%d].status", i), a.Status); err != nil {
			return err
		}
		if len(a.Labels) == 0 {
			return bad("alerts[%d].labels must be a non-empty object", i)
		}
		if a.Fingerprint == "" {
			if fallbackFP == nil {
				return bad("alerts[%d].fingerprint is required", i)
			}
			a.Fingerprint = fallbackFP(a.Labels)
		}
		if a.Annotations == nil {
			a.Annotations = map[string]string{}
		}
	}
	return nil
}
