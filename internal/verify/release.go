package verify

import (
	"context"
	"os/exec"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/team"
)

// revisions lists the git refs an overlay's Argo CD objects sync from this
// repository, with the field that names each.
func revisions(u *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	get := func(path ...string) string { s, _, _ := unstructured.NestedString(u.Object, path...); return s }
	switch u.GetKind() {
	case "Application":
		if get("spec", "source", "repoURL") == team.RepoURL {
			out["spec.source.targetRevision"] = get("spec", "source", "targetRevision")
		}
	case "ApplicationSet":
		if get("spec", "template", "spec", "source", "repoURL") == team.RepoURL {
			out["spec.template.spec.source.targetRevision"] = get("spec", "template", "spec", "source", "targetRevision")
		}
		gens, _, _ := unstructured.NestedSlice(u.Object, "spec", "generators")
		for _, g := range gens {
			if git, ok := g.(map[string]any)["git"].(map[string]any); ok && git["repoURL"] == team.RepoURL {
				out["spec.generators[].git.revision"], _ = git["revision"].(string)
			}
		}
	}
	return out
}

// checkRevision reports a ref of this repository that does not exist: a
// prod pin to a typo would make Argo CD fail every sync.
func (c *Checker) checkRevision(ctx context.Context, r *Report, where string, u *unstructured.Unstructured) {
	for field, rev := range revisions(u) {
		if rev == "" || rev == "HEAD" {
			continue
		}
		if err := exec.CommandContext(ctx, "git", "-C", c.Root, "rev-parse", "--verify", "--quiet", rev+"^{commit}").Run(); err == nil {
			continue
		}
		if isShallow(ctx, c.Root) {
			continue // a shallow clone cannot tell; the full clone in CI does
		}
		r.add(Finding{File: where, Object: objectID(u), Field: field, Rule: "release-ref",
			Reason: "git ref " + rev + " does not exist in this repository; pin a tag or a commit of main"})
	}
}

func isShallow(ctx context.Context, root string) bool {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--is-shallow-repository").Output()
	return err == nil && strings.TrimSpace(string(out)) == "true"
}
