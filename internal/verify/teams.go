package verify

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"

	"github.com/unsilo/unsilo/internal/catalog"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/team"
)

// checkTeams enforces each teams/<team>/team.yaml on the team's claims and
// checks that platform/teams (namespaces, AppProjects, RBAC) is generated
// from the current team.yaml files.
func (c *Checker) checkTeams(r *Report) error {
	teamsDir := filepath.Join(c.Root, "teams")
	dirs, err := team.Folders(teamsDir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
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
			r.add(Finding{File: rel, Object: "team", Reason: err.Error(), Rule: "team"})
			continue
		}
		teams = append(teams, t)
		files, err := manifest.YAMLFiles(d, catalog.IsFixture)
		if err != nil {
			return err
		}
		var objs []manifest.Object
		for _, f := range files {
			o, err := manifest.ReadFile(f)
			if err != nil {
				continue // reported by the XR checks
			}
			objs = append(objs, o...)
		}
		for _, f := range t.Check(objs, c.Catalog.IsXR) {
			r.add(Finding{File: relative(c.Root, f.Object.File), Line: f.Object.Line, Object: f.Object.ID(), Field: f.Field, Reason: f.Reason, Rule: f.Rule})
		}
	}
	want, err := team.GovernanceFiles(c.Root, teams, c.Catalog.Plurals())
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
	return nil
}
