// Package verify checks the repo the way the cluster would judge it, before
// Argo CD syncs it: every XR is validated against its XRD and rendered, every
// composed resource against the provider's CRD schema and the policies, and
// every kustomize overlay is built and its output checked.
package verify

import (
	"fmt"
	"sort"
)

// Finding is one problem, printed as one line.
type Finding struct {
	Where  string // file:line
	Object string // Kind/namespace/name, or the composed resource's name
	Field  string
	Reason string
	Rule   string // policy rule or check name
}

func (f Finding) String() string {
	s := f.Where + ": " + f.Object
	if f.Field != "" {
		s += ": " + f.Field
	}
	s += ": " + f.Reason
	if f.Rule != "" {
		s += " [" + f.Rule + "]"
	}
	return s
}

// Report is the outcome of a verify run.
type Report struct {
	Findings []Finding
	XRs      int
	Composed int
	Overlays int
	Objects  int // manifests built from overlays
}

func (r *Report) add(f Finding) { r.Findings = append(r.Findings, f) }

func (r *Report) sort() {
	sort.SliceStable(r.Findings, func(i, j int) bool { return r.Findings[i].String() < r.Findings[j].String() })
}

// Summary is the last line a human reads.
func (r *Report) Summary() string {
	return fmt.Sprintf("verified %d XRs (%d composed resources) and %d overlays (%d objects): %d findings",
		r.XRs, r.Composed, r.Overlays, r.Objects, len(r.Findings))
}
