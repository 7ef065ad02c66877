// Package argo works out what Argo CD v3.2 syncs from this repository: it
// expands an environment's root Application through every child
// Application and ApplicationSet, each built at the git revision it names
// (a worktree per commit), with the kustomize options, Helm values and
// generator semantics Argo CD applies. verify judges that tree, not the
// working copy.
package argo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Repo resolves revisions of the repository under review to directories:
// the working tree for the revision being reviewed (Tip: main, HEAD and
// HEAD's commit), a detached git worktree for any other commit.
type Repo struct {
	Root string // the working tree
	URL  string // the repoURL Argo CD knows this repository by
	// Main is the ref whose history every pinned revision must be on
	// (origin/main in CI, main locally).
	Main string
	// Tip lists the revisions that mean "the tree under review".
	Tip []string

	head      string
	tmp       string
	worktrees map[string]string // commit -> dir
}

// NewRepo prepares a Repo for root; Close removes its worktrees.
func NewRepo(ctx context.Context, root, url, main string) (*Repo, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	r := &Repo{Root: abs, URL: url, Main: main, Tip: []string{"", "HEAD", "main"}, worktrees: map[string]string{}}
	if out, err := r.git(ctx, "rev-parse", "HEAD"); err == nil {
		r.head = out
	}
	return r, nil
}

// Resolve returns the commit a revision names and the directory holding
// the tree Argo CD would check out for it.
func (r *Repo) Resolve(ctx context.Context, rev string) (commit, dir string, err error) {
	for _, t := range r.Tip {
		if rev == t {
			return r.head, r.Root, nil
		}
	}
	commit, err = r.git(ctx, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil || commit == "" {
		return "", "", fmt.Errorf("git ref %s does not exist in this repository", rev)
	}
	if commit == r.head {
		return commit, r.Root, nil
	}
	if d, ok := r.worktrees[commit]; ok {
		return commit, d, nil
	}
	if r.tmp == "" {
		if r.tmp, err = os.MkdirTemp("", "unsilo-revisions-"); err != nil {
			return "", "", err
		}
	}
	d := filepath.Join(r.tmp, commit[:12])
	if _, err := r.git(ctx, "worktree", "add", "--detach", "--quiet", d, commit); err != nil {
		return "", "", fmt.Errorf("check out %s: %w", rev, err)
	}
	r.worktrees[commit] = d
	return commit, d, nil
}

// OnMain reports whether commit is on the history of the Main ref.
func (r *Repo) OnMain(ctx context.Context, commit string) (bool, error) {
	if _, err := r.git(ctx, "rev-parse", "--verify", "--quiet", r.Main+"^{commit}"); err != nil {
		return false, fmt.Errorf("no ref %s to check the release against (fetch it, or pass --main)", r.Main)
	}
	c := exec.CommandContext(ctx, "git", "-C", r.Root, "merge-base", "--is-ancestor", commit, r.Main)
	err := c.Run()
	if err == nil {
		return true, nil
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return false, nil
	}
	return false, fmt.Errorf("git merge-base --is-ancestor %s %s: %w", commit, r.Main, err)
}

// Shallow reports whether the clone lacks history (CI's default), when
// revisions cannot all be checked.
func (r *Repo) Shallow(ctx context.Context) bool {
	out, err := r.git(ctx, "rev-parse", "--is-shallow-repository")
	return err == nil && out == "true"
}

// Close removes the worktrees.
func (r *Repo) Close() error {
	var first error
	for _, d := range r.worktrees {
		if _, err := r.git(context.Background(), "worktree", "remove", "--force", d); err != nil && first == nil {
			first = err
		}
	}
	r.worktrees = map[string]string{}
	if r.tmp != "" {
		if err := os.RemoveAll(r.tmp); err != nil && first == nil {
			first = err
		}
		r.tmp = ""
	}
	return first
}

func (r *Repo) git(ctx context.Context, args ...string) (string, error) {
	c := exec.CommandContext(ctx, "git", append([]string{"-C", r.Root}, args...)...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(errb.Bytes()))
	}
	return strings.TrimSpace(out.String()), nil
}
