package verify

import (
	"context"
	"fmt"
	"regexp"

	"github.com/unsilo/unsilo/internal/argo"
	"github.com/unsilo/unsilo/internal/manifest"
)

var (
	commitish = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
	// chartVersion is a chart's exact version: semver, no ranges.
	chartVersion = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
)

// checkRelease checks how an environment follows git: the root follows
// main and holds the release; the release names a commit of main's
// history (or main itself); every Application of this repository syncs
// the release's commit and every remote chart keeps its exact version.
func (c *Checker) checkRelease(ctx context.Context, r *Report, repo *argo.Repo, e *environment) {
	root := e.apps[0]
	if root.Revision != "main" || root.Path != e.dir {
		r.add(Finding{File: e.dir + "/root.yaml", Object: manifest.ID(root.Object), Field: "spec.source", Rule: "release",
			Reason: fmt.Sprintf("the root syncs %s at %q; it must follow main at %s so that a promotion (a change of release/release.yaml on main) reaches the cluster", root.Path, root.Revision, e.dir)})
	}
	if e.release == nil {
		r.add(Finding{File: e.dir, Object: "Application/argocd/release", Rule: "release",
			Reason: "the root syncs no Application named release: " + e.dir + "/release/release.yaml names the revision the environment runs"})
		return
	}
	rel := e.release
	relFile := "clusters/" + e.name + "/release/release.yaml"
	if rel.Err == nil && rel.Revision != "main" {
		switch {
		case !commitish.MatchString(rel.Revision):
			r.add(Finding{File: relFile, Object: manifest.ID(rel.Object), Field: "spec.source.targetRevision", Rule: "release",
				Reason: fmt.Sprintf("%q is a branch or tag name, which can move; pin a commit of main (or follow main itself)", rel.Revision)})
		case repo.Shallow(ctx):
			// A shallow clone cannot tell; the full clone in CI does.
		default:
			on, err := repo.OnMain(ctx, rel.Commit)
			switch {
			case err != nil:
				r.add(Finding{File: relFile, Object: manifest.ID(rel.Object), Field: "spec.source.targetRevision", Rule: "release", Reason: err.Error()})
			case !on:
				r.add(Finding{File: relFile, Object: manifest.ID(rel.Object), Field: "spec.source.targetRevision", Rule: "release",
					Reason: fmt.Sprintf("commit %s is not on %s's history: a release is a commit that merged (and passed CI); merge first, then pin a commit of %s", shortRev(rel.Commit), repo.Main, repo.Main)})
			}
		}
	}
	if e.release.Path != e.dir+"/apps" {
		r.add(Finding{File: relFile, Object: manifest.ID(rel.Object), Field: "spec.source.path", Rule: "release",
			Reason: fmt.Sprintf("syncs %s; the environment's Applications are %s/apps", rel.Path, e.dir)})
	}
	for _, a := range e.apps {
		field := "spec.source.targetRevision"
		if a.Set != "" {
			field = "spec.template.spec.source.targetRevision (ApplicationSet " + a.Set + ")"
		}
		if a.Err != nil {
			r.add(Finding{File: e.appWhere(a), Object: manifest.ID(a.Object), Rule: "argocd-source",
				Reason: fmt.Sprintf("Argo CD cannot build %s: %v", a.Chain(), a.Err)})
			continue
		}
		switch {
		case a.Repo && a != root && a != rel && a.Commit != rel.Commit:
			r.add(Finding{File: e.appWhere(a), Object: manifest.ID(a.Object), Field: field, Rule: "release-follows",
				Reason: fmt.Sprintf("syncs this repository at %q, not at the release %s: the environment would run two commits; label it platform.unsilo.dev/follows: release", a.Revision, shortRev(rel.Commit))})
		case !a.Repo && !chartVersion.MatchString(a.Revision):
			what := "an exact chart version"
			if commitish.MatchString(a.Revision) {
				what = "a chart version, not a git commit (a release's revision was written into a remote chart)"
			}
			r.add(Finding{File: e.appWhere(a), Object: manifest.ID(a.Object), Field: field, Rule: "chart-version",
				Reason: fmt.Sprintf("chart %s at %q: want %s, e.g. 65.1.1", a.Chart, a.Revision, what)})
		}
	}
}
