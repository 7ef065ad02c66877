package gitserver

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unsilo/unsilo/e2e/proxy"
)

func git(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// A real `git clone` over HTTPS through the e2e proxy, as Argo's
// repo-server does, sees the checkout's HEAD as main and later commits.
func TestGitClonesAndFetchesThroughTheProxy(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	git(t, src, nil, "init", "--quiet", "-b", "work")
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("a\n"), 0o644)
	git(t, src, nil, "add", ".")
	git(t, src, nil, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "one")
	head := git(t, src, nil, "rev-parse", "HEAD")

	repo, err := New(ctx, src, t.TempDir(), "unsilo/unsilo.git")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := proxy.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	p := proxy.New(ca, slog.New(slog.DiscardHandler))
	p.Serve("github.com", repo.Handler())
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := ca.WriteBundle(bundle); err != nil {
		t.Fatal(err)
	}
	env := append(p.Env(), "GIT_SSL_CAINFO="+bundle, "GIT_TERMINAL_PROMPT=0")

	remote := git(t, "", env, "ls-remote", "https://github.com/unsilo/unsilo.git", "refs/heads/main")
	if !strings.HasPrefix(remote, head) {
		t.Fatalf("main must be the checkout's HEAD %s, ls-remote says %q", head, remote)
	}
	clone := filepath.Join(t.TempDir(), "clone")
	git(t, "", env, "clone", "--quiet", "https://github.com/unsilo/unsilo.git", clone)
	if b, err := os.ReadFile(filepath.Join(clone, "a.txt")); err != nil || string(b) != "a\n" {
		t.Fatalf("clone content: %q, %v", b, err)
	}

	next, err := repo.Commit(ctx, t.TempDir(), "remove a", func(wt string) error { return os.Remove(filepath.Join(wt, "a.txt")) })
	if err != nil {
		t.Fatal(err)
	}
	git(t, clone, env, "pull", "--quiet", "--ff-only")
	if got := git(t, clone, nil, "rev-parse", "HEAD"); got != next {
		t.Errorf("a test's commit must be what clients fetch next: HEAD %s, want %s", got, next)
	}
	if _, err := os.Stat(filepath.Join(clone, "a.txt")); !os.IsNotExist(err) {
		t.Errorf("the commit removed a.txt, but the fetched tree has it (%v)", err)
	}
}
