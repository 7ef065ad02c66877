package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/internal/plan"
)

// planDiff renders BASE with BASE's own code in a temporary worktree.
func planDiff(cmd *cobra.Command, e *env, base string, args []string) error {
	root, err := e.repo()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if _, err := git(ctx, root, "rev-parse", "--verify", "--quiet", base+"^{commit}"); err != nil {
		return fmt.Errorf("--diff %s: no such git ref in %s", base, root)
	}
	tmp, err := os.MkdirTemp("", "unsilo-base-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	wt := filepath.Join(tmp, "tree")
	if _, err := git(ctx, root, "worktree", "add", "--detach", wt, base); err != nil {
		return err
	}
	defer func() { _, _ = git(context.Background(), root, "worktree", "remove", "--force", wt) }()

	bin := filepath.Join(tmp, "unsilo")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/unsilo")
	build.Dir = wt
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("cannot build %s's unsilo: %v\n%s", base, err, out)
	}
	baseArgs := []string{"plan", "--json", "--root", wt}
	for _, a := range args {
		if r, err := filepath.Rel(root, a); err == nil {
			a = filepath.Join(wt, r)
		}
		baseArgs = append(baseArgs, a)
	}
	run := exec.CommandContext(ctx, bin, baseArgs...)
	run.Dir = wt
	var stdout, stderr bytes.Buffer
	run.Stdout, run.Stderr = &stdout, &stderr
	if err := run.Run(); err != nil {
		return fmt.Errorf("%s's unsilo plan --json failed (a ref older than `plan --json` cannot be diffed): %v\n%s", base, err, stderr.String())
	}
	var bs plan.Snapshot
	if err := json.Unmarshal(stdout.Bytes(), &bs); err != nil {
		return fmt.Errorf("cannot read %s's plan: %w", base, err)
	}
	hs, _, err := e.plan(cmd, args)
	if err != nil {
		return err
	}
	findings, err := e.findingsByXR(cmd, args)
	if err != nil {
		return err
	}
	for i := range hs.XRs {
		x := &hs.XRs[i]
		file, _, _ := strings.Cut(x.Where, ":")
		_, id, ok := strings.Cut(x.ID, ": ") // "<env>: Kind/ns/name" for an environment's XR
		if !ok {
			id = x.ID
		}
		x.Findings = findings[e.rel(absPath(file))+"|"+id]
	}
	return plan.Markdown(cmd.OutOrStdout(), base, plan.Diff(relTo(wt, bs), relTo(root, hs)))
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	c := exec.CommandContext(ctx, "git", args...)
	c.Dir = dir
	out, err := c.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}
