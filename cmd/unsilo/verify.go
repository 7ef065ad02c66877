package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/internal/catalog"
	"github.com/unsilo/unsilo/internal/crds"
	"github.com/unsilo/unsilo/internal/policy"
	"github.com/unsilo/unsilo/internal/schema"
	"github.com/unsilo/unsilo/internal/verify"
)

func verifyCmd(e *env) *cobra.Command {
	var main string
	c := &cobra.Command{
		Use:   "verify [PATH...]",
		Short: "Check the repo the way each environment's Argo CD and Crossplane would judge it",
		Long: `Checks what the clusters would refuse, or do wrong, before Argo CD tries:
  - each environment (clusters/<env>) as its Argo CD syncs it: the root, the
    release at the revision it pins (built in a git worktree; a pin must be
    a commit on main's history), every child Application's source, paths,
    kustomize options and Helm values at that revision, remote charts at
    exact versions, AppProjects, sync-wave order, deletion protection of
    stateful objects, every Secret read produced by something, images and
    packages immutable and from platform/artifacts, the settings file
  - every XR there and under compositions/*/examples/ against its XRD
    (OpenAPI + CEL), rendered with the function; every composed resource
    against the provider-aws CRD schema and policies/
  - every team (teams/<team>/team.yaml): its claims per environment, the
    namespace (its folder), APIs, quotas; platform/teams generated from it
  - every kustomization under clusters/, platform/ and teams/ builds.
Prints one line per finding (file, resource, field, reason [rule]) and exits 1
if there is any. PATH checks the whole the same way and prints the findings
of those files or folders; a YAML file that nothing syncs is checked on its
own (as XRs, with the other objects of its folder as their world).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			root, err := e.repo()
			if err != nil {
				return err
			}
			c, err := e.checker(cmd)
			if err != nil {
				return err
			}
			c.Teams, c.Environments, c.Main = true, true, mainRef(root, main)
			files, err := c.Catalog.Examples()
			if err != nil {
				return err
			}
			overlays, err := verify.Overlays(filepath.Join(root, "clusters"), filepath.Join(root, "platform"), filepath.Join(root, "teams"))
			if err != nil {
				return err
			}
			alone, err := standalone(root, files, args)
			if err != nil {
				return err
			}
			rep, err := c.Run(cmd.Context(), append(files, alone...), overlays)
			if err != nil {
				return err
			}
			shown := 0
			for _, f := range rep.Findings {
				if len(args) > 0 && !under(root, f.File, args) {
					continue
				}
				shown++
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s in %s\n", rep.Summary(), time.Since(start).Round(time.Millisecond))
			if len(args) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d of them in %s\n", shown, strings.Join(args, " "))
			}
			if shown > 0 {
				return errFindings
			}
			return nil
		},
	}
	c.Flags().StringVar(&main, "main", "", "the ref a pinned release must be on the history of (default: origin/main if it exists, else main)")
	return c
}

// mainRef picks the ref that is main: origin/main in a CI clone, main here.
func mainRef(root, flag string) string {
	if flag != "" {
		return flag
	}
	if _, err := git(context.Background(), root, "rev-parse", "--verify", "--quiet", "origin/main^{commit}"); err == nil {
		return "origin/main"
	}
	return "main"
}

// standalone lists the YAML files named by args that no environment or
// example covers: they are checked on their own. Folders are never
// expanded into loose files: whatever of theirs is synced is checked as
// synced, and Helm templates, values files or workflows are not manifests.
func standalone(root string, examples, args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if st.IsDir() || !(strings.HasSuffix(a, ".yaml") || strings.HasSuffix(a, ".yml")) || catalog.IsFixture(a) {
			continue
		}
		rel, err := filepath.Rel(root, absPath(a))
		if err != nil {
			return nil, err
		}
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "clusters/") || strings.HasPrefix(rel, "platform/") || strings.HasPrefix(rel, "teams/") ||
			strings.HasPrefix(rel, "apps/") || strings.HasPrefix(rel, ".github/") || isExample(root, rel, examples) {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

func isExample(root, rel string, examples []string) bool {
	for _, x := range examples {
		if r, err := filepath.Rel(root, absPath(x)); err == nil && filepath.ToSlash(r) == rel {
			return true
		}
	}
	return false
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// under reports whether a finding's file (repo-relative, maybe with
// @revision) lies in one of the paths.
func under(root, file string, paths []string) bool {
	file, _, _ = strings.Cut(file, "@")
	file, _, _ = strings.Cut(file, " ")
	for _, p := range paths {
		rel, err := filepath.Rel(root, absPath(p))
		if err != nil {
			continue
		}
		rel = filepath.ToSlash(rel)
		if rel == "." || file == rel || strings.HasPrefix(file, rel+"/") {
			return true
		}
		if r, err := filepath.Rel(root, absPath(file)); err == nil && filepath.ToSlash(r) == rel {
			return true
		}
	}
	return false
}

// validator loads the provider, Crossplane and Argo CD CRDs and our XRDs.
func validator(cmd *cobra.Command, cat *catalog.Catalog) (*schema.Validator, error) {
	v := schema.New()
	for _, s := range crds.Sources {
		dir, err := crds.Locate(cmd.Context(), s)
		if err != nil {
			return nil, err
		}
		if err := v.AddCRDDir(dir); err != nil {
			return nil, fmt.Errorf("cannot load %s CRDs: %w", s.Name, err)
		}
	}
	for _, a := range cat.APIs {
		b, err := a.XRD.MarshalJSON()
		if err != nil {
			return nil, err
		}
		if err := v.AddXRD(b); err != nil {
			return nil, fmt.Errorf("%s: %w", a.XRDFile, err)
		}
	}
	return v, nil
}

// checker builds what verify needs: schemas, policies, the function.
func (e *env) checker(cmd *cobra.Command) (*verify.Checker, error) {
	root, err := e.repo()
	if err != nil {
		return nil, err
	}
	cat, err := e.catalog()
	if err != nil {
		return nil, err
	}
	v, err := validator(cmd, cat)
	if err != nil {
		return nil, err
	}
	pol, err := policy.Load(cmd.Context(), filepath.Join(root, "policies"))
	if err != nil {
		return nil, err
	}
	fn, err := e.function()
	if err != nil {
		return nil, err
	}
	return &verify.Checker{Root: root, Catalog: cat, Schemas: v, Policies: pol, Function: fn}, nil
}

// findingsByXR verifies the XR files (and, with no args, the environments)
// and groups the findings by file and XR id ("file|Kind/ns/name").
func (e *env) findingsByXR(cmd *cobra.Command, args []string) (map[string][]string, error) {
	c, err := e.checker(cmd)
	if err != nil {
		return nil, err
	}
	files, err := e.xrFiles(c.Catalog, args)
	if err != nil {
		return nil, err
	}
	if len(args) == 0 {
		root, err := e.repo()
		if err != nil {
			return nil, err
		}
		c.Environments, c.Main = true, mainRef(root, "")
	}
	rep, err := c.Run(cmd.Context(), files, nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, f := range rep.Findings {
		id, rest, _ := strings.Cut(f.Object, " -> ")
		file, _, _ := strings.Cut(f.File, "@") // a release's file, at its revision
		id = e.rel(absPath(file)) + "|" + id
		msg := f.Reason + " [" + f.Rule + "]"
		if f.Field != "" {
			msg = "`" + f.Field + "`: " + msg
		}
		if rest != "" {
			msg = rest + ": " + msg
		}
		out[id] = append(out[id], msg)
	}
	return out, nil
}
