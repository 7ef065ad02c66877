package verify

import (
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/unsilo/unsilo/internal/argo"
	"github.com/unsilo/unsilo/internal/manifest"
)

// wave is an object's Argo CD sync wave.
func wave(u *unstructured.Unstructured) int { return argo.Wave(u) }

// defines returns the kind a CRD or a Crossplane XRD makes servable.
func defines(u *unstructured.Unstructured) (schema.GroupKind, bool) {
	switch u.GetKind() {
	case "CustomResourceDefinition", "CompositeResourceDefinition":
		g, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		k, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		return schema.GroupKind{Group: g, Kind: k}, g != "" && k != ""
	}
	return schema.GroupKind{}, false
}

// order is where an object sits in an environment's sync: the wave of each
// Application from the root down, then its own wave.
type order []int

func orderOf(a *argo.App, u *unstructured.Unstructured) order {
	var o order
	for p := a; p != nil; p = p.Parent {
		o = append(order{p.Wave()}, o...)
	}
	if u != nil {
		o = append(o, wave(u))
	}
	return o
}

// before reports whether o is applied strictly before p (Argo CD syncs a
// parent's waves in order and waits for each child Application's health).
func (o order) before(p order) bool {
	for i := 0; i < len(o) && i < len(p); i++ {
		if o[i] != p[i] {
			return o[i] < p[i]
		}
	}
	return false
}

func (o order) String() string {
	s := ""
	for i, w := range o {
		if i > 0 {
			s += "/"
		}
		s += strconv.Itoa(w)
	}
	return s
}

// checkTreeWaves reports every object the environment would apply before
// the CRD or XRD that defines its kind: Argo CD would fail that wave,
// every time. Kinds whose CRDs come from a remote chart or a package
// (Crossplane's, the providers', External Secrets') are defined by the
// Application that installs them, which must come first as a whole.
func (c *Checker) checkTreeWaves(r *Report, e *environment) {
	type def struct {
		app *argo.App
		at  order
	}
	defs := map[schema.GroupKind]def{}
	for _, s := range e.synced() {
		if gk, ok := defines(s.u); ok {
			defs[gk] = def{s.app, orderOf(s.app, s.u)}
		}
	}
	for _, s := range e.synced() {
		d, ok := defs[s.u.GroupVersionKind().GroupKind()]
		if !ok {
			continue
		}
		if at := orderOf(s.app, s.u); at.before(d.at) {
			r.add(Finding{File: e.where(s.app, s.u), Line: lineOf(s.app, s.u), Object: manifest.ID(s.u), Field: "metadata.annotations[argocd.argoproj.io/sync-wave]", Rule: "sync-wave-order",
				Reason: fmt.Sprintf("%s applies it at %s, before %s defines %s at %s; raise its wave", s.app.Chain(), at, d.app.Chain(), s.u.GroupVersionKind().GroupKind(), d.at)})
		}
	}
}
