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

// protect keeps Argo CD from deleting an object when it leaves git or its
// Application is deleted: a team's namespace holds its XRs.
const protect = "Prune=false,Delete=false"

// Governance renders what the platform keeps for a team in one environment,
// platform/teams/<env>/<team>.yaml: its namespace (the folder name), an Argo
// CD AppProject that lets the team's Application deploy into that namespace
// only the XR kinds team.yaml allows, and a Role that lets the team's group
// read those XRs (and their events) but not change them: claims change
// through git, where they are reviewed and verified. plurals maps XR kind to
// its resource name (from the XRDs).
func (t *Team) Governance(env string, plurals map[string]string) ([]byte, error) {
	var resources []string
	var kinds []any
	apis := append([]string(nil), t.APIs...)
	sort.Strings(apis)
	for _, k := range apis {
		p, ok := plurals[k]
		if !ok {
			return nil, fmt.Errorf("%s: apis: %s is not a platform API; known: %v", t.Name, k, keys(plurals))
		}
		resources = append(resources, p)
		kinds = append(kinds, map[string]any{"group": "platform.unsilo.dev", "kind": k})
	}
	labels := map[string]any{"platform.unsilo.dev/team": t.Name}
	owners := strings.Join(t.Owners, ",")
	docs := []map[string]any{
		{
			"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": t.Name, "labels": labels, "annotations": map[string]any{
				"platform.unsilo.dev/owners": owners, "argocd.argoproj.io/sync-options": protect,
			}},
		},
		{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
			"metadata": map[string]any{"name": "team-" + t.Name, "namespace": "argocd", "labels": labels},
			"spec": map[string]any{
				"description":  fmt.Sprintf("Claims of team %s in %s (owners: %s)", t.Name, env, owners),
				"sourceRepos":  []any{RepoURL},
				"destinations": []any{map[string]any{"server": "https://kubernetes.default.svc", "namespace": t.Name}},
				// No cluster-scoped resources at all; namespaced only the
				// kinds the team may claim.
				"clusterResourceWhitelist":   []any{},
				"namespaceResourceWhitelist": kinds,
			},
		},
		{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
			"metadata": map[string]any{"name": "team-claims", "namespace": t.Name, "labels": labels},
			"rules": []any{
				map[string]any{"apiGroups": []any{"platform.unsilo.dev"}, "resources": toAny(resources), "verbs": []any{"get", "list", "watch"}},
				map[string]any{"apiGroups": []any{""}, "resources": []any{"events"}, "verbs": []any{"get", "list", "watch"}},
			},
		},
		{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
			"metadata": map[string]any{"name": "team-claims", "namespace": t.Name, "labels": labels},
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
