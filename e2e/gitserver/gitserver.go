// Package gitserver serves a bare copy of this checkout over git's smart
// HTTP protocol (`git http-backend` as CGI, what git-scm documents for
// hosting), so Argo CD's repo-server clones and fetches it exactly as it
// would from GitHub. Tests change the served repository with commits of
// their own (a claim removed, prod promoted).
package gitserver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Repo is one served bare repository.
type Repo struct {
	root string // GIT_PROJECT_ROOT
	path string // repository path under root, e.g. unsilo/unsilo.git
	git  string
}

// New copies the checkout at src into a bare repository dir/<path>, with
// branch main at src's HEAD (what CI tests is what `main` means here).
func New(ctx context.Context, src, dir, path string) (*Repo, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("git http-backend needs git on PATH: %w", err)
	}
	r := &Repo{root: dir, path: path, git: git}
	bare := r.Dir()
	head, err := run(ctx, git, src, "rev-parse", "HEAD")
	if err != nil {
		return nil, err
	}
	if _, err := run(ctx, git, "", "clone", "--quiet", "--bare", "--no-local", src, bare); err != nil {
		return nil, err
	}
	for _, args := range [][]string{
		{"update-ref", "refs/heads/main", head},
		{"symbolic-ref", "HEAD", "refs/heads/main"},
		{"config", "http.receivepack", "false"},
	} {
		if _, err := run(ctx, git, bare, args...); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Dir is the bare repository on disk.
func (r *Repo) Dir() string { return filepath.Join(r.root, r.path) }

// Handler serves the repository at /<path> (e.g. https://github.com/unsilo/unsilo.git).
func (r *Repo) Handler() http.Handler {
	return &cgi.Handler{
		Path: r.git,
		Args: []string{"http-backend"},
		Root: "/",
		Env:  []string{"GIT_PROJECT_ROOT=" + r.root, "GIT_HTTP_EXPORT_ALL=1"},
	}
}

// Rev resolves a revision of the served repository.
func (r *Repo) Rev(ctx context.Context, rev string) (string, error) {
	return run(ctx, r.git, r.Dir(), "rev-parse", rev)
}

// Commit checks main out into a scratch work tree, lets edit change it, and
// commits the result onto main with msg; it returns the new commit.
func (r *Repo) Commit(ctx context.Context, scratch, msg string, edit func(worktree string) error) (string, error) {
	wt := filepath.Join(scratch, "worktree")
	_ = os.RemoveAll(wt)
	if _, err := run(ctx, r.git, "", "clone", "--quiet", r.Dir(), wt); err != nil {
		return "", err
	}
	if err := edit(wt); err != nil {
		return "", fmt.Errorf("cannot edit the served repository: %w", err)
	}
	for _, args := range [][]string{
		{"add", "--all"},
		{"-c", "user.name=unsilo e2e", "-c", "user.email=e2e@unsilo.invalid", "commit", "--quiet", "-m", msg},
		{"push", "--quiet", "origin", "HEAD:main"},
	} {
		if _, err := run(ctx, r.git, wt, args...); err != nil {
			return "", err
		}
	}
	return r.Rev(ctx, "main")
}

func run(ctx context.Context, git, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, git, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s (in %s): %w: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}
