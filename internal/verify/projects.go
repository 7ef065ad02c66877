package verify

import (
	"fmt"
	"path"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/argo"
	"github.com/unsilo/unsilo/internal/manifest"
)

// project is what an AppProject admits.
type project struct {
	namespaces []string // destination namespace globs
	cluster    []map[string]any
	namespaced []map[string]any
}

// checkProjects applies Argo CD's AppProject rules to every Application:
// its project must exist in the environment, and each object it syncs must
// be a kind the project whitelists, in a namespace it may deploy to. A
// team's project admits only the XR kinds of its team.yaml, so this is
// where a claim of another kind is refused, as Argo CD would.
func (c *Checker) checkProjects(r *Report, e *environment) {
	projects := map[string]*project{}
	for _, s := range e.synced() {
		if s.u.GetKind() != "AppProject" {
			continue
		}
		p := &project{}
		dests, _, _ := unstructured.NestedSlice(s.u.Object, "spec", "destinations")
		for _, d := range dests {
			if ns, ok := d.(map[string]any)["namespace"].(string); ok {
				p.namespaces = append(p.namespaces, ns)
			}
		}
		p.cluster = maps(s.u, "spec", "clusterResourceWhitelist")
		p.namespaced = maps(s.u, "spec", "namespaceResourceWhitelist")
		projects[s.u.GetName()] = p
	}
	for _, a := range e.apps {
		name := a.Project()
		p, ok := projects[name]
		if !ok {
			r.add(Finding{File: e.appWhere(a), Object: manifest.ID(a.Object), Field: "spec.project", Rule: "argocd-project",
				Reason: fmt.Sprintf("AppProject %q is created by nothing in %s; Argo CD will not sync %s", name, e.name, a.Name())})
			continue
		}
		for _, u := range a.Objects {
			gk := u.GroupVersionKind().GroupKind()
			var reason string
			if argo.ClusterScoped(u) {
				if !listed(p.cluster, gk.Group, gk.Kind) {
					reason = fmt.Sprintf("AppProject %s admits no cluster-scoped %s", name, gk)
				}
			} else {
				if len(p.namespaced) > 0 && !listed(p.namespaced, gk.Group, gk.Kind) {
					reason = fmt.Sprintf("AppProject %s admits only %s, not %s", name, kinds(p.namespaced), gk)
				} else if !matchAny(p.namespaces, u.GetNamespace()) {
					reason = fmt.Sprintf("AppProject %s deploys only to namespaces %v, not %s", name, p.namespaces, u.GetNamespace())
				}
			}
			if reason != "" {
				r.add(Finding{File: e.where(a, u), Line: lineOf(a, u), Object: manifest.ID(u), Field: "kind", Rule: "argocd-project",
					Reason: reason + " (Application " + a.Name() + ")"})
			}
		}
	}
}

func maps(u *unstructured.Unstructured, fields ...string) []map[string]any {
	l, _, _ := unstructured.NestedSlice(u.Object, fields...)
	out := make([]map[string]any, 0, len(l))
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func listed(list []map[string]any, group, kind string) bool {
	for _, m := range list {
		g, _ := m["group"].(string)
		k, _ := m["kind"].(string)
		gm, _ := path.Match(g, group)
		km, _ := path.Match(k, kind)
		if gm && km {
			return true
		}
	}
	return false
}

func kinds(list []map[string]any) []string {
	out := make([]string, 0, len(list))
	for _, m := range list {
		out = append(out, fmt.Sprintf("%v.%v", m["kind"], m["group"]))
	}
	return out
}

func matchAny(globs []string, s string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}
