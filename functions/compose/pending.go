package compose

import (
	"fmt"
	"strings"
)

// Defer records that the API leaves what out of this reconcile until
// waitsFor holds (a dependency's ARN is known, a policy is Ready). An XR
// composed in stages would otherwise turn Ready as soon as every resource
// composed so far is, before the rest exists: the server keeps it not
// Ready while anything is pending and says what it waits for.
func (r *Result) Defer(what, waitsFor string) {
	if r.Pending == nil {
		r.Pending = map[string]string{}
	}
	r.Pending[what] = waitsFor
}

// PendingMessage says what the XR still waits for, sorted, or "" when
// nothing is pending.
func (r *Result) PendingMessage() string {
	if len(r.Pending) == 0 {
		return ""
	}
	parts := make([]string, 0, len(r.Pending))
	for _, what := range SortedKeys(r.Pending) {
		parts = append(parts, fmt.Sprintf("%s waits for %s", what, r.Pending[what]))
	}
	return strings.Join(parts, "; ")
}
