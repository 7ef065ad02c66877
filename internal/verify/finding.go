// Package verify checks the repo the way the cluster would judge it, before
// Argo CD syncs it: every XR is validated against its XRD and rendered, every
// composed resource against the provider's CRD schema and the policies, and
// every kustomize overlay is built and its output checked.
package verify

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Finding is one problem, printed as one line.
type Finding struct {
	File   string
	Line   int    // 0 when the finding is about a whole file or overlay
	Object string // Kind/namespace/name, or the composed resource's name
	Field  string
	Reason string
	Rule   string // policy rule or check name
}

func (f Finding) String() string {
	s := f.File
	if f.Line > 0 {
		s += ":" + strconv.Itoa(f.Line)
	}
	s += ": " + f.Object
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
	Findings     []Finding
	XRs          int
	Composed     int
	Overlays     int
	Objects      int // manifests built from overlays and environments
	Environments int // clusters/<env> followed through Argo CD's eyes

	// converged keeps every XR's converged render for the checks across
	// XRs (checkAcross).
	converged []convergedXR
}

func (r *Report) add(f Finding) { r.Findings = append(r.Findings, f) }

func (r *Report) sort() {
	// The same object can be reached twice (an overlay and an environment
	// that syncs it): one line per distinct finding.
	seen := map[string]bool{}
	uniq := r.Findings[:0]
	for _, f := range r.Findings {
		if s := f.String(); !seen[s] {
			seen[s] = true
			uniq = append(uniq, f)
		}
	}
	r.Findings = uniq
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.String() < b.String()
	})
}

// Summary is the last line a human reads.
func (r *Report) Summary() string {
	return fmt.Sprintf("verified %d environments, %d XRs (%d composed resources) and %d overlays (%d objects): %d findings",
		r.Environments, r.XRs, r.Composed, r.Overlays, r.Objects, len(r.Findings))
}

// grouped collects the findings of one XR's composed resources so that a
// rule broken by 30 resources is one line naming them, not 30 lines.
type grouped struct {
	order []string
	by    map[string]*group
}

type group struct {
	f     Finding
	names []string
}

func (g *grouped) add(f Finding, resource string) {
	if g.by == nil {
		g.by = map[string]*group{}
	}
	key := f.Field + "\x00" + f.Reason + "\x00" + f.Rule
	if _, ok := g.by[key]; !ok {
		g.order = append(g.order, key)
		g.by[key] = &group{f: f}
	}
	g.by[key].names = append(g.by[key].names, resource)
}

// flush adds one finding per group; xr names the composite resource.
func (g *grouped) flush(r *Report, xr string) {
	for _, k := range g.order {
		gr := g.by[k]
		f := gr.f
		if len(gr.names) == 1 {
			f.Object = xr + " -> " + gr.names[0]
		} else {
			shown := gr.names
			if len(shown) > 4 {
				shown = append(shown[:4:4], fmt.Sprintf("and %d more", len(gr.names)-4))
			}
			f.Object = fmt.Sprintf("%s -> %d resources (%s)", xr, len(gr.names), strings.Join(shown, ", "))
		}
		r.add(f)
	}
}
