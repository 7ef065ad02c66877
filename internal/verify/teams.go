package verify

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/team"
)

// checkTeams checks every teams/<team>/team.yaml, that each folder of
// claims is an environment the team lists, and that platform/teams
// (namespaces, AppProjects, RBAC per environment) is generated from the
// current team.yaml files. The claims themselves are checked as each
// environment gets them (checkTeamApps).
func (c *Checker) checkTeams(r *Report) error {
	dirs, err := team.Folders(filepath.Join(c.Root, "teams"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	envs, err := team.Environments(c.Root)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, e := range envs {
		known[e] = true
	}
	var teams []*team.Team
	for _, d := range dirs {
		rel := relative(c.Root, d)
		t, err := team.Load(d)
		if errors.Is(err, team.ErrNoTeamFile) {
			r.add(Finding{File: rel, Object: "team", Reason: "no team.yaml: every team folder needs one (`unsilo team new NAME` scaffolds it)", Rule: "team"})
			continue
		}
		if err != nil {
			r.add(Finding{File: rel + "/" + team.File, Object: "team", Reason: strings.TrimPrefix(err.Error(), filepath.Join(d, team.File)+": "), Rule: "team"})
			continue
		}
		teams = append(teams, t)
		file := rel + "/" + team.File
		if t.Namespace != "" && t.Namespace != t.Name {
			r.add(Finding{File: file, Object: "team " + t.Name, Field: "namespace", Rule: "team-namespace",
				Reason: fmt.Sprintf("%q, but a team's namespace is its folder name %q (the ApplicationSet and the AppProject both use the folder); remove the field", t.Namespace, t.Name)})
		}
		for _, env := range t.EnvironmentNames() {
			if !known[env] {
				r.add(Finding{File: file, Object: "team " + t.Name, Field: "environments." + env, Rule: "team-environment",
					Reason: fmt.Sprintf("there is no clusters/%s; environments are %v", env, envs)})
			}
		}
		entries, _ := os.ReadDir(d)
		for _, en := range entries {
			if !en.IsDir() || t.In(en.Name()) || !known[en.Name()] {
				continue
			}
			r.add(Finding{File: rel + "/" + en.Name(), Object: "team " + t.Name, Field: "environments", Rule: "team-environment",
				Reason: fmt.Sprintf("claims for %s, but team.yaml lists only %v: no AppProject admits them there; add environments.%s with its quotas", en.Name(), t.EnvironmentNames(), en.Name())})
		}
	}
	want, err := team.GovernanceFiles(c.Root, teams, c.Catalog.Plurals(), envs)
	if err != nil {
		r.add(Finding{File: "teams", Object: "team", Reason: err.Error(), Rule: "team"})
		return nil
	}
	for path, b := range want {
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, b) {
			r.add(Finding{File: relative(c.Root, path), Object: "governance", Reason: "not generated from the current team.yaml files; run `unsilo team sync` and commit the result", Rule: "team-governance"})
		}
	}
	stale, _ := filepath.Glob(filepath.Join(c.Root, "platform", "teams", "*", "*.yaml"))
	for _, p := range stale {
		if _, ok := want[p]; !ok {
			r.add(Finding{File: relative(c.Root, p), Object: "governance", Reason: "no team.yaml generates it any more; run `unsilo team sync` (it removes it)", Rule: "team-governance"})
		}
	}
	return nil
}

// checkTeamApps enforces each team's team.yaml on what the environment's
// teams ApplicationSet syncs for it: the namespace, the APIs, the quotas
// and the environment of every claim, at the release's revision.
func (c *Checker) checkTeamApps(r *Report, e *environment) {
	for _, a := range e.apps {
		if a.Set == "" || !strings.HasPrefix(a.Path, "teams/") || a.Dir == "" {
			continue
		}
		segs := strings.Split(a.Path, "/")
		if len(segs) != 3 {
			continue
		}
		t, err := team.Load(filepath.Join(a.Dir, "teams", segs[1]))
		if err != nil {
			continue // reported by checkTeams
		}
		objs := make([]manifest.Object, 0, len(a.Objects))
		for _, u := range a.Objects {
			objs = append(objs, manifest.Object{File: e.where(a, u), Line: lineOf(a, u), Unstructured: u})
		}
		for _, f := range t.Check(e.name, objs, c.Catalog.IsXR) {
			r.add(Finding{File: f.Object.File, Line: f.Object.Line, Object: f.Object.ID(), Field: f.Field, Reason: f.Reason, Rule: f.Rule})
		}
		if ns := a.Destination(); ns != segs[1] {
			r.add(Finding{File: e.appWhere(a), Object: "ApplicationSet/" + a.Set, Field: "spec.template.spec.destination.namespace", Rule: "team-namespace",
				Reason: fmt.Sprintf("%s deploys teams/%s to namespace %q; a team's namespace is its folder name", a.Name(), segs[1], ns)})
		}
	}
}
