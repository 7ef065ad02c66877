package compose

import (
	"errors"
	"fmt"
)

// FieldError is a problem with one field of the XR's spec. Its message names
// the field so a user can fix the manifest without reading Go.
type FieldError struct {
	Field  string // e.g. "spec.cidr"
	Value  any
	Reason string
}

func (e *FieldError) Error() string {
	if e.Value == nil {
		return fmt.Sprintf("%s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("%s: invalid value %v: %s", e.Field, e.Value, e.Reason)
}

// Invalid returns a FieldError.
func Invalid(field string, value any, format string, args ...any) error {
	return &FieldError{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// AsFieldError reports whether err is (or wraps) a FieldError.
func AsFieldError(err error) (*FieldError, bool) {
	var fe *FieldError
	ok := errors.As(err, &fe)
	return fe, ok
}
