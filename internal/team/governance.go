package team

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// RepoURL is the git repository Argo CD syncs.
const RepoURL = "https://github.com/unsilo/unsilo.git"

// Governance renders what the platform keeps for a team in
// platform/teams/<team>/governance.yaml: its namespace, an Argo CD
// AppProject that lets the team's Application deploy only namespaced
// platform XRs into that namespace, and a Role letting the team's group
// edit only the XR kinds team.yaml allows. plurals maps XR kind to its
// resource name (from the XRDs).
func (t *Team) Governance(plurals map[string]string) ([]byte, error) {
	var resources []string
	for _, k := range t.APIs {
		p, ok := plurals[k]
		if !ok {
			return nil, fmt.Errorf("%s: apis: %s is not a platform API; known: %v", t.Name, k, keys(plurals))
		}
		resources = append(resources, p)
	}
	sort.Strings(resources)
	labels := map[string]any{"platform.unsilo.dev/team": t.Name}
	owners := strings.Join(t.Owners, ",")
	docs := []map[string]any{
		{
			"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": t.Namespace, "labels": labels, "annotations": map[string]any{"platform.unsilo.dev/owners": owners}},
		},
		{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
			"metadata": map[string]any{"name": "team-" + t.Name, "namespace": "argocd", "labels": labels},
			"spec": map[string]any{
				"description":  "Claims of team " + t.Name + " (owners: " + owners + ")",
				"sourceRepos":  []any{RepoURL},
				"destinations": []any{map[string]any{"server": "https://kubernetes.default.svc", "namespace": t.Namespace}},
				// No cluster-scoped resources at all; namespaced only the XRs.
				"clusterResourceWhitelist":   []any{},
				"namespaceResourceWhitelist": []any{map[string]any{"group": "platform.unsilo.dev", "kind": "*"}},
			},
		},
		{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
			"metadata": map[string]any{"name": "team-claims", "namespace": t.Namespace, "labels": labels},
			"rules": []any{
				map[string]any{"apiGroups": []any{"platform.unsilo.dev"}, "resources": toAny(resources), "verbs": []any{"get", "list", "watch", "create", "update", "patch", "delete"}},
				map[string]any{"apiGroups": []any{""}, "resources": []any{"events"}, "verbs": []any{"get", "list", "watch"}},
			},
		},
		{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
			"metadata": map[string]any{"name": "team-claims", "namespace": t.Namespace, "labels": labels},
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "team-claims"},
			"subjects": []any{map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": t.Group}},
		},
	}
	var buf bytes.Buffer
	buf.WriteString("# Generated from teams/" + t.Name + "/team.yaml by `unsilo team sync`; do not edit.\n")
	for _, d := range docs {
		b, err := yaml.Marshal(d)
		if err != nil {
			return nil, err
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
