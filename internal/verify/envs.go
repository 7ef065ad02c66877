package verify

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/argo"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/team"
)

// environment is one clusters/<env>/ as its Argo CD syncs it: the root,
// the release it points at, and every Application below, each built at the
// revision it names.
type environment struct {
	root     string // the working tree
	name     string
	dir      string // clusters/<env>, repo-relative
	apps     []*argo.App
	release  *argo.App
	settings map[string]string // clusters/<env>/settings at the release
	// settingsFile is where settings were read, for messages.
	settingsFile string
}

// where names the file an object came from: repo-relative, with the
// revision when it is not the tree under review.
func (e *environment) where(a *argo.App, u *unstructured.Unstructured) string {
	f := a.Files[u]
	if f == "" {
		f = a.Path
	}
	return e.at(a, f)
}

// at qualifies a repo-relative path of app a's checkout with its revision
// when that is not the working tree.
func (e *environment) at(a *argo.App, path string) string {
	if a.Repo && a.Dir != "" && a.Dir != e.root {
		return path + "@" + shortRev(a.Commit)
	}
	return path
}

func shortRev(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// appWhere is where an Application itself is defined.
func (e *environment) appWhere(a *argo.App) string {
	if a.Parent == nil {
		return e.dir + "/root.yaml"
	}
	return e.where(a.Parent, a.Object)
}

// checkEnvironments judges every environment the way its Argo CD will sync
// it: the release at its pinned revision, every child Application's source,
// and everything those build to.
func (c *Checker) checkEnvironments(ctx context.Context, r *Report) error {
	envs, err := team.Environments(c.Root)
	if err != nil {
		return err
	}
	main := c.Main
	if main == "" {
		main = "main"
	}
	repo, err := argo.NewRepo(ctx, c.Root, team.RepoURL, main)
	if err != nil {
		return err
	}
	defer repo.Close()
	c.repo = repo
	for _, name := range envs {
		if len(c.Only) > 0 && !slices.Contains(c.Only, name) {
			continue
		}
		for _, dir := range argo.Trees(c.Root, name) {
			if err := c.checkTree(ctx, r, repo, name, filepath.ToSlash(dir)); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkTree checks one cluster of environment name: dir is its root's
// folder (clusters/<env>, or clusters/<env>/management).
func (c *Checker) checkTree(ctx context.Context, r *Report, repo *argo.Repo, name, dir string) error {
	{
		e, err := c.expand(ctx, r, repo, name, dir)
		if err != nil {
			return err
		}
		if e == nil {
			return nil
		}
		r.Environments++
		c.checkRelease(ctx, r, repo, e)
		c.checkSettings(r, e)
		c.checkProjects(r, e)
		c.checkTreeWaves(r, e)
		c.checkDeletion(r, e)
		c.checkSecrets(r, e)
		c.checkImages(r, e)
		if err := c.checkReleaseArtifacts(ctx, r, e); err != nil {
			return err
		}
		if err := c.checkSynced(ctx, r, e); err != nil {
			return err
		}
	}
	return nil
}

// expand builds clusters/<env> and follows its root Application.
func (c *Checker) expand(ctx context.Context, r *Report, repo *argo.Repo, name, dir string) (*environment, error) {
	e := &environment{root: repo.Root, name: name, dir: dir}
	apps, err := repo.Tree(ctx, dir)
	switch {
	case errors.Is(err, argo.ErrNoRoot):
		r.add(Finding{File: e.dir, Object: "Application/argocd/root", Rule: "release",
			Reason: "no root Application: clusters/<env>/root.yaml is what bootstrap applies and what syncs everything else"})
		return nil, nil
	case err != nil && len(apps) == 0:
		r.add(Finding{File: e.dir, Object: "kustomization", Reason: err.Error(), Rule: "kustomize"})
		return nil, nil
	}
	e.apps = apps
	for _, a := range e.apps {
		if a.Name() == "release" && a.Parent != nil && a.Parent.Parent == nil {
			e.release = a
		}
	}
	e.settings, e.settingsFile = settingsOf(e)
	return e, nil
}

// settingsOf finds the settings ConfigMap the environment's release reads.
func settingsOf(e *environment) (map[string]string, string) {
	if e.release == nil || e.release.Dir == "" {
		return nil, ""
	}
	rel := "clusters/" + e.name + "/settings/settings.yaml"
	objs, err := manifest.ReadFile(filepath.Join(e.release.Dir, rel))
	if err != nil || len(objs) == 0 {
		return nil, ""
	}
	data, _, _ := unstructured.NestedStringMap(objs[0].Object, "data")
	return data, e.at(e.release, rel)
}

// synced lists every object the environment's Applications apply, with the
// Application that applies it.
type syncedObject struct {
	app *argo.App
	u   *unstructured.Unstructured
}

func (e *environment) synced() []syncedObject {
	var out []syncedObject
	for _, a := range e.apps {
		for _, u := range a.Objects {
			out = append(out, syncedObject{a, u})
		}
	}
	return out
}

// checkSynced checks every object the environment syncs like any manifest
// (schema, policies), renders its XRs with the rest of their namespace as
// their world, and enforces team.yaml on the teams' Applications.
func (c *Checker) checkSynced(ctx context.Context, r *Report, e *environment) error {
	// The world of every XR is every XR of the environment: a required
	// resource is looked up by namespace and name (a KnowledgeBase finds
	// the platform's Cluster, a WebPortal its Network).
	var world []unstructured.Unstructured
	byNS := map[string][]manifest.Object{}
	var nsOrder []string
	for _, s := range e.synced() {
		r.Objects++
		where := e.where(s.app, s.u)
		line := lineOf(s.app, s.u)
		if !c.Catalog.IsXR(s.u) {
			if !c.Quick {
				c.checkSchema(r, where, line, s.u)
				c.checkPolicy(ctx, r, where, line, s.u)
			}
			continue
		}
		ns := s.u.GetNamespace()
		if _, ok := byNS[ns]; !ok {
			nsOrder = append(nsOrder, ns)
		}
		byNS[ns] = append(byNS[ns], manifest.Object{File: where, Line: line, Unstructured: s.u})
		world = append(world, *s.u)
		if env, _, _ := unstructured.NestedString(s.u.Object, "spec", "environment"); env != e.name {
			r.add(Finding{File: where, Line: line, Object: manifest.ID(s.u), Field: "spec.environment", Rule: "environment",
				Reason: fmt.Sprintf("%q, but Application %s syncs it to a cluster of %s (%s); a claim belongs in the folder of its environment", env, s.app.Name(), e.name, e.dir)})
		}
	}
	sort.Strings(nsOrder)
	for _, ns := range nsOrder {
		if err := c.verifyObjects(ctx, r, byNS[ns], world, &claimed{by: map[string]string{}}, e); err != nil {
			return err
		}
	}
	c.checkTeamApps(r, e)
	return nil
}

// lineOf finds the line of an object in the file it came from.
func lineOf(a *argo.App, u *unstructured.Unstructured) int {
	f := a.Files[u]
	if f == "" || a.Dir == "" {
		return 0
	}
	objs, err := manifest.ReadFile(filepath.Join(a.Dir, f))
	if err != nil {
		return 0
	}
	for _, o := range objs {
		if o.GetKind() == u.GetKind() && o.GetName() == u.GetName() {
			return o.Line
		}
	}
	return 0
}
