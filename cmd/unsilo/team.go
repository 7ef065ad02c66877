package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/internal/team"
)

func teamCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "team", Short: "Scaffold teams and keep their governance in step with team.yaml"}
	c.AddCommand(&cobra.Command{
		Use:   "new NAME",
		Short: "Scaffold teams/NAME (team.yaml, dev/kustomization.yaml) and its governance",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, err := e.repo()
			if err != nil {
				return err
			}
			name := args[0]
			dir := filepath.Join(root, "teams", name)
			if _, err := os.Stat(dir); err == nil {
				return fmt.Errorf("teams/%s exists already", name)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			files := map[string][]byte{
				filepath.Join(dir, team.File): append(team.Scaffold(name), '\n'),
				filepath.Join(dir, "dev", "kustomization.yaml"): []byte("# The team's dev claims: platform.unsilo.dev XRs in namespace " + name + ",\n" +
					"# synced to the dev cluster only (one folder per environment in team.yaml).\n" +
					"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: " + name + "\nresources: []\n"),
			}
			if err := write(files); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created teams/%s: edit team.yaml (owners, group, apis, environments and their quotas), add claims under teams/%s/<env>/, then run `unsilo team sync`\n", name, name)
			return syncTeams(e, cmd)
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "sync",
		Short: "Regenerate platform/teams from every teams/*/team.yaml",
		RunE:  func(cmd *cobra.Command, _ []string) error { return syncTeams(e, cmd) },
	})
	return c
}

func syncTeams(e *env, cmd *cobra.Command) error {
	files, err := governance(e)
	if err != nil {
		return err
	}
	if err := write(files); err != nil {
		return err
	}
	// A team that left an environment (or the repo) leaves nothing behind.
	root, err := e.repo()
	if err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(root, "platform", "teams", "*", "*.yaml"))
	for _, p := range old {
		if _, keep := files[p]; !keep {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "platform/teams is in step with %d files\n", len(files))
	return nil
}

// governance renders platform/teams from the team folders.
func governance(e *env) (map[string][]byte, error) {
	root, err := e.repo()
	if err != nil {
		return nil, err
	}
	cat, err := e.catalog()
	if err != nil {
		return nil, err
	}
	dirs, err := team.Folders(filepath.Join(root, "teams"))
	if err != nil {
		return nil, err
	}
	var teams []*team.Team
	var errs []error
	for _, d := range dirs {
		t, err := team.Load(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		teams = append(teams, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	envs, err := team.Environments(root)
	if err != nil {
		return nil, err
	}
	return team.GovernanceFiles(root, teams, cat.Plurals(), envs)
}

func write(files map[string][]byte) error {
	for path, b := range files {
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
