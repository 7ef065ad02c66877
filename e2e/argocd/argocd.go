// Package argocd runs Argo CD's application-controller, repo-server and
// applicationset-controller as local processes (tools/argocd) with Redis
// from Debian against the e2e control plane, configured as Argo CD's own
// install manifests configure them, so the repo's Applications,
// ApplicationSets, sync waves and Lua health checks run for real.
package argocd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/mod/modfile"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/e2e/controlplane"
	"github.com/unsilo/unsilo/internal/crds"
)

// Namespace is where Argo CD lives, as in the repo's manifests.
const Namespace = "argocd"

// Binaries are the programs Argo CD needs.
type Binaries struct {
	ArgoCD string // tools/argocd: controllers, repo-server, kustomize
	Helm   string // tools/helm
	Redis  string // Debian's redis-server
}

// Options say how Argo CD reaches the (simulated) internet.
type Options struct {
	Env      []string // proxy environment (proxy.Proxy.Env)
	CABundle string   // trust for the hosts the proxy serves
	// Resync is the controller's --app-resync: how often an Application is
	// compared with git without a change event (Argo's default is 180 s).
	Resync time.Duration
}

// Version is the Argo CD module tools/argocd pins (its CRDs are installed).
func Version(repoRoot string) (string, error) {
	p := filepath.Join(repoRoot, "tools", "argocd", "go.mod")
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	f, err := modfile.Parse(p, b, nil)
	if err != nil {
		return "", err
	}
	for _, r := range f.Require {
		if r.Mod.Path == "github.com/argoproj/argo-cd/v3" {
			return r.Mod.Version, nil
		}
	}
	return "", fmt.Errorf("%s requires no github.com/argoproj/argo-cd/v3", p)
}

// Install creates the argocd namespace, Argo CD's CRDs and the ConfigMaps
// and Secret of its core-install.yaml (the headless install: controllers and
// repo-server, no API server or UI: argocd-cm, argocd-secret, argocd-rbac-cm,
// ...) from the pinned module, as `kubectl apply -f install.yaml` would.
func Install(ctx context.Context, c *controlplane.Client, repoRoot string) error {
	v, err := Version(repoRoot)
	if err != nil {
		return err
	}
	dir, err := crds.Locate(ctx, crds.Source{Name: "argo-cd", Module: "github.com/argoproj/argo-cd/v3", Version: v, Dir: "manifests"})
	if err != nil {
		return err
	}
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": Namespace}}}
	if err := c.Apply(ctx, ns, false); err != nil {
		return err
	}
	objs, err := controlplane.ReadYAML(filepath.Join(dir, "core-install.yaml"))
	if err != nil {
		return err
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "CustomResourceDefinition":
			if err := c.Apply(ctx, o, false); err != nil {
				return fmt.Errorf("argo-cd %s core-install.yaml: CRD %s: %w", v, o.GetName(), err)
			}
			if err := c.WaitEstablished(ctx, o.GetName(), time.Minute); err != nil {
				return err
			}
		case "ConfigMap", "Secret":
			o.SetNamespace(Namespace)
			if err := c.Apply(ctx, o, false); err != nil {
				return fmt.Errorf("argo-cd %s core-install.yaml: %s %s: %w", v, o.GetKind(), o.GetName(), err)
			}
		}
	}
	return nil
}

// Start runs Redis and the three Argo CD processes and waits until the
// repo-server answers. Logs land in the control plane's dir
// (argocd-repo-server.log, ...).
func Start(ctx context.Context, cp *controlplane.ControlPlane, bins Binaries, o Options) error {
	path := filepath.Join(cp.Dir, "argocd-bin")
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	// The repo-server runs kustomize, helm and git from PATH, and git runs
	// `argocd` as its askpass helper (ARGOCD_BINARY_NAME picks the command).
	for name, target := range map[string]string{"kustomize": bins.ArgoCD, "argocd": bins.ArgoCD, "helm": bins.Helm} {
		if err := os.Symlink(target, filepath.Join(path, name)); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	redis, repo := controlplane.FreePort(), controlplane.FreePort()
	redisAddr, repoAddr := "127.0.0.1:"+strconv.Itoa(redis), "127.0.0.1:"+strconv.Itoa(repo)
	if err := cp.Spawn(ctx, "redis", bins.Redis, "--bind", "127.0.0.1", "--port", strconv.Itoa(redis), "--save", "", "--appendonly", "no"); err != nil {
		return err
	}
	if err := controlplane.WaitTCP(ctx, redisAddr, 30*time.Second); err != nil {
		return fmt.Errorf("redis: %w\n%s", err, cp.Log("redis"))
	}
	tmp := filepath.Join(cp.Dir, "argocd-tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	env := append([]string{
		"PATH=" + path + string(os.PathListSeparator) + os.Getenv("PATH"),
		"ARGOCD_FAKE_IN_CLUSTER=true", // https://kubernetes.default.svc is KUBECONFIG's API server
		"ARGOCD_GPG_ENABLED=false",    // no gpg keyring to initialise
		"SSL_CERT_FILE=" + o.CABundle, "GIT_SSL_CAINFO=" + o.CABundle,
		"TMPDIR=" + tmp, "HOME=" + tmp,
	}, o.Env...)
	common := []string{"--loglevel", "info"}
	resync := o.Resync
	if resync == 0 {
		resync = 180 * time.Second
	}
	procs := []struct {
		name string
		args []string
	}{
		{"argocd-repo-server", []string{"--port", strconv.Itoa(repo), "--metrics-port", strconv.Itoa(controlplane.FreePort()),
			"--disable-tls", "--redis", redisAddr,
			// A pushed commit is seen at the next resync, not 3 minutes later.
			"--revision-cache-expiration", "10s"}},
		{"argocd-application-controller", []string{"--namespace", Namespace, "--repo-server", repoAddr, "--repo-server-plaintext", "--redis", redisAddr,
			"--metrics-port", strconv.Itoa(controlplane.FreePort()), "--app-resync", strconv.Itoa(int(resync.Seconds())),
			"--self-heal-timeout-seconds", "2"}},
		{"argocd-applicationset-controller", []string{"--namespace", Namespace, "--argocd-repo-server", repoAddr, "--repo-server-plaintext",
			"--metrics-addr", "127.0.0.1:" + strconv.Itoa(controlplane.FreePort()), "--probe-addr", "127.0.0.1:" + strconv.Itoa(controlplane.FreePort()),
			"--webhook-addr", "127.0.0.1:" + strconv.Itoa(controlplane.FreePort())}},
	}
	for _, p := range procs {
		if err := cp.SpawnEnv(ctx, p.name, bins.ArgoCD, append(env, "ARGOCD_BINARY_NAME="+p.name), append(p.args, common...)...); err != nil {
			return err
		}
		if p.name == "argocd-repo-server" {
			if err := controlplane.WaitTCP(ctx, repoAddr, time.Minute); err != nil {
				return fmt.Errorf("argocd-repo-server: %w\n%s", err, cp.Log(p.name))
			}
		}
	}
	return nil
}
