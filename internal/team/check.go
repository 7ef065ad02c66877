package team

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/manifest"
)

// Finding is a claim team.yaml does not allow.
type Finding struct {
	Object manifest.Object
	Field  string
	Reason string
	Rule   string
}

// Check enforces team.yaml on the team's objects in one environment (its
// claims there, as that environment's cluster gets them).
func (t *Team) Check(env string, objs []manifest.Object, isXR func(*unstructured.Unstructured) bool) []Finding {
	var out []Finding
	add := func(o manifest.Object, field, rule, format string, args ...any) {
		out = append(out, Finding{Object: o, Field: field, Rule: rule, Reason: fmt.Sprintf(format, args...) + fmt.Sprintf(" (team %s, %s)", t.Name, File)})
	}
	e, ok := t.Environments[env]
	if !ok {
		if len(objs) > 0 {
			add(objs[0], "-", "team-environment", "teams/%s/%s holds claims, but team.yaml lists no environment %s (it has %v): no AppProject admits them there; add environments.%s with its quotas or move the claims", t.Name, env, env, t.EnvironmentNames(), env)
		}
		return out
	}
	claims := 0
	nodes := 0
	for _, o := range objs {
		if o.GroupVersionKind().Group == "kustomize.config.k8s.io" {
			continue
		}
		if ns := o.GetNamespace(); ns != "" && ns != t.Name {
			add(o, "metadata.namespace", "team-namespace", "%q is not the team's namespace %q (a team's namespace is its folder name)", ns, t.Name)
		}
		if !isXR(o.Unstructured) {
			add(o, "kind", "team-api", "%s is not a platform API; a team folder holds only claims", o.GetKind())
			continue
		}
		claims++
		if !t.Allows(o.GetKind()) {
			add(o, "kind", "team-api", "the team may not claim %s; allowed: %v", o.GetKind(), t.APIs)
		}
		if got, _, _ := unstructured.NestedString(o.Object, "spec", "environment"); got != env {
			if got == "" {
				got = "(unset)"
			}
			add(o, "spec.environment", "team-environment", "%s, but this claim is synced to the %s cluster from teams/%s/%s; set environment: %s or move the file to teams/%s/%s", got, env, t.Name, env, env, t.Name, got)
		}
		e.Quotas.check(o, add, &nodes)
	}
	if claims > e.Quotas.MaxClaims {
		add(objs[len(objs)-1], "-", "team-quota", "%d claims in %s exceed maxClaims %d", claims, env, e.Quotas.MaxClaims)
	}
	if e.Quotas.MaxNodes > 0 && nodes > e.Quotas.MaxNodes {
		add(objs[len(objs)-1], "spec.nodeGroups", "team-quota", "%d nodes at most across clusters exceed maxNodes %d", nodes, e.Quotas.MaxNodes)
	}
	return out
}

func (q Quotas) check(o manifest.Object, add func(manifest.Object, string, string, string, ...any), nodes *int) {
	str := func(path ...string) string { s, _, _ := unstructured.NestedString(o.Object, path...); return s }
	num := func(path ...string) int64 { n, _, _ := unstructured.NestedInt64(o.Object, path...); return n }
	switch o.GetKind() {
	case "WebPortal":
		if typ := str("spec", "instances", "type"); !contains(q.InstanceTypes, typ) {
			add(o, "spec.instances.type", "team-quota", "instance type %s is not among the team's %v", typ, q.InstanceTypes)
		}
		if c := str("spec", "database", "instanceClass"); !contains(q.DBClasses, c) {
			add(o, "spec.database.instanceClass", "team-quota", "DB class %s is not among the team's %v", c, q.DBClasses)
		}
		if m := num("spec", "instances", "max"); int(m) > q.MaxASGSize {
			add(o, "spec.instances.max", "team-quota", "%d instances exceed the team's maxAsgSize %d", m, q.MaxASGSize)
		}
	case "Cluster":
		groups, _, _ := unstructured.NestedSlice(o.Object, "spec", "nodeGroups")
		for i, g := range groups {
			m, _ := g.(map[string]any)
			if n, ok := m["max"].(int64); ok {
				*nodes += int(n)
			}
			types, _ := m["instanceTypes"].([]any)
			for _, ty := range types {
				if s, _ := ty.(string); !contains(q.InstanceTypes, s) {
					add(o, fmt.Sprintf("spec.nodeGroups[%d].instanceTypes", i), "team-quota", "instance type %s is not among the team's %v", s, q.InstanceTypes)
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
