//go:build e2e

package argocd_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/e2e/argocd"
	"github.com/unsilo/unsilo/e2e/controlplane"
	"github.com/unsilo/unsilo/e2e/gitserver"
	"github.com/unsilo/unsilo/e2e/proxy"
)

// Argo CD, as local processes, clones a repository from the e2e network
// and syncs an Application from it into the API server until Synced and
// Healthy.
func TestArgoCDSyncsFromTheLoopbackGitServer(t *testing.T) {
	bins := controlplane.Binaries{Etcd: os.Getenv("ETCD_BIN"), APIServer: os.Getenv("KUBE_APISERVER_BIN")}
	argo := argocd.Binaries{ArgoCD: os.Getenv("ARGOCD_BIN"), Helm: os.Getenv("HELM_BIN"), Redis: os.Getenv("REDIS_SERVER_BIN")}
	if bins.Etcd == "" || bins.APIServer == "" || argo.ArgoCD == "" || argo.Helm == "" || argo.Redis == "" {
		t.Fatal("set ETCD_BIN, KUBE_APISERVER_BIN, ARGOCD_BIN, HELM_BIN and REDIS_SERVER_BIN (make e2e does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir := t.TempDir()
	cp, err := controlplane.Start(ctx, log, bins, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()
	c, err := cp.NewClient()
	if err != nil {
		t.Fatal(err)
	}

	// A repository with one kustomization holding one ConfigMap.
	src := filepath.Join(dir, "src")
	os.MkdirAll(filepath.Join(src, "app"), 0o755)
	os.WriteFile(filepath.Join(src, "app", "kustomization.yaml"), []byte("resources: [cm.yaml]\n"), 0o644)
	os.WriteFile(filepath.Join(src, "app", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: synced}\ndata: {from: git}\n"), 0o644)
	gitInit(t, src)
	repo, err := gitserver.New(ctx, src, filepath.Join(dir, "git"), "unsilo/unsilo.git")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := proxy.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	p := proxy.New(ca, log)
	p.Serve("github.com", repo.Handler())
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	bundle := filepath.Join(dir, "ca.pem")
	ca.WriteBundle(bundle)

	if err := argocd.Install(ctx, c, "../.."); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := argocd.Start(ctx, cp, argo, argocd.Options{Env: p.Env(), CABundle: bundle, Resync: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []map[string]any{
		{"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "metadata": map[string]any{"name": "default", "namespace": "argocd"},
			"spec": map[string]any{"sourceRepos": []any{"*"}, "destinations": []any{map[string]any{"server": "*", "namespace": "*"}},
				"clusterResourceWhitelist": []any{map[string]any{"group": "*", "kind": "*"}}}},
		{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": map[string]any{"name": "demo", "namespace": "argocd"},
			"spec": map[string]any{"project": "default",
				"source":      map[string]any{"repoURL": "https://github.com/unsilo/unsilo.git", "targetRevision": "main", "path": "app"},
				"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": "default"},
				"syncPolicy":  map[string]any{"automated": map[string]any{"prune": true}}}},
	} {
		if err := c.Apply(ctx, &unstructured.Unstructured{Object: o}, false); err != nil {
			t.Fatal(err)
		}
	}
	app, err := argocd.WaitApp(ctx, c, "demo", 3*time.Minute, argocd.SyncedAndHealthy)
	if err != nil {
		t.Fatalf("%v\nrepo-server:\n%s\ncontroller:\n%s", err, cp.Log("argocd-repo-server"), cp.Log("argocd-application-controller"))
	}
	t.Logf("Application synced and healthy %s after Argo CD started (revision %s)", time.Since(start).Round(time.Millisecond), argocd.Revision(app))
	cm, err := c.Get(ctx, "v1", "ConfigMap", "default", "synced")
	if err != nil {
		t.Fatalf("the Application's ConfigMap must exist after sync: %v", err)
	}
	if got, _, _ := unstructured.NestedString(cm.Object, "data", "from"); got != "git" {
		t.Errorf("synced ConfigMap data.from = %q, want git", got)
	}
	head, _ := repo.Rev(ctx, "main")
	if argocd.Revision(app) != head {
		t.Errorf("Argo synced revision %s, the served main is %s", argocd.Revision(app), head)
	}
}

func gitInit(t *testing.T, dir string) {
	t.Helper()
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"}} {
		if out, err := runGit(dir, args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}
