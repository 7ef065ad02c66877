//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/unsilo/unsilo/e2e/argocd"
	"github.com/unsilo/unsilo/e2e/charts"
	"github.com/unsilo/unsilo/e2e/controlplane"
	"github.com/unsilo/unsilo/e2e/fakeaws"
	"github.com/unsilo/unsilo/e2e/gitserver"
	"github.com/unsilo/unsilo/e2e/proxy"
	"github.com/unsilo/unsilo/e2e/xpkgs"
	"github.com/unsilo/unsilo/functions/server"
	"github.com/unsilo/unsilo/internal/crds"
	"github.com/unsilo/unsilo/internal/manifest"
)

// rig is the platform on one machine: API server, Crossplane core calling
// the real function over mTLS, the simulated AWS, Argo CD syncing from a
// git server holding this checkout, all reached under their real names
// through the e2e proxy.
type rig struct {
	cp    *controlplane.ControlPlane
	c     *controlplane.Client
	aws   *fakeaws.AWS
	repo  *gitserver.Repo
	run   *xpkgs.Runtime
	proxy *proxy.Proxy
	dir   string
}

func env(t *testing.T, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var missing []string
	for _, n := range names {
		if out[n] = os.Getenv(n); out[n] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("set %s (make e2e does)", strings.Join(missing, ", "))
	}
	return out
}

func startRig(t *testing.T, ctx context.Context, log *slog.Logger, tr tree) *rig {
	t.Helper()
	e := env(t, "ETCD_BIN", "KUBE_APISERVER_BIN", "KUBE_CONTROLLER_MANAGER_BIN", "CROSSPLANE_CORE_BIN", "ARGOCD_BIN", "HELM_BIN", "REDIS_SERVER_BIN", "FUNCTION_BIN", "PACKAGES_DIR")
	r := &rig{dir: t.TempDir()}
	var err error
	step := func(name string, f func() error) {
		t.Helper()
		start := time.Now()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("rig: %s in %s", name, time.Since(start).Round(time.Millisecond))
	}
	ca, err := proxy.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(r.dir, "e2e-ca.pem")
	if err := ca.WriteBundle(bundle); err != nil {
		t.Fatal(err)
	}
	r.proxy = proxy.New(ca, log)
	if err := r.proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.proxy.Close() })

	step("etcd + kube-apiserver + garbage collector", func() error {
		r.cp, err = controlplane.Start(ctx, log, controlplane.Binaries{Etcd: e["ETCD_BIN"], APIServer: e["KUBE_APISERVER_BIN"], ControllerManager: e["KUBE_CONTROLLER_MANAGER_BIN"],
			APIServerEnv: r.proxy.Env()}, r.dir)
		if err != nil {
			return err
		}
		r.c, err = r.cp.NewClient()
		return err
	})
	t.Cleanup(r.cp.Stop)

	step("git server with this checkout", func() error {
		r.repo, err = gitserver.New(ctx, root, filepath.Join(r.dir, "git"), "unsilo/unsilo.git")
		if err == nil {
			r.proxy.Serve("github.com", r.repo.Handler())
		}
		return err
	})
	step("chart repositories (stand-ins named and versioned as pinned)", func() error { return serveCharts(ctx, r.proxy) })
	step("package registry", func() error { return servePackages(ctx, log, r.proxy, e, tr) })

	step("Crossplane core", func() error {
		dir, err := crds.Locate(ctx, crds.Sources[1])
		if err != nil {
			return err
		}
		// The API server calls Crossplane's webhooks (the Usages' among
		// them) through the proxy, by the Service name they are registered under.
		hooks := controlplane.FreePort()
		r.proxy.Tunnel(controlplane.WebhookService, "127.0.0.1:"+strconv.Itoa(hooks))
		if err := r.cp.StartCrossplane(ctx, e["CROSSPLANE_CORE_BIN"], dir, hooks, r.proxy.Env(), "--ca-bundle-path="+bundle); err != nil {
			return fmt.Errorf("%w\n%s", err, r.cp.Log("crossplane"))
		}
		return nil
	})
	step("simulated AWS and package runtimes", func() error {
		scheme := runtime.NewScheme()
		if err := clientgoscheme.AddToScheme(scheme); err != nil {
			return err
		}
		for _, a := range server.APIs() {
			if err := a.AddToScheme(scheme); err != nil {
				return err
			}
			if err := fakeaws.RegisterResolverTypes(a.AddToScheme); err != nil {
				return err
			}
		}
		if err := fakeaws.RegisterReferencedTypes(); err != nil {
			return err
		}
		r.aws = fakeaws.New(log, fakeaws.Options{Poll: 5 * time.Second, Latency: time.Second})
		if err := r.aws.Start(ctx, r.cp.Config, scheme); err != nil {
			return err
		}
		r.run = &xpkgs.Runtime{CP: r.cp, Client: r.c, Proxy: r.proxy, FunctionBin: e["FUNCTION_BIN"], AWS: r.aws, Log: log}
		return r.run.Run(ctx)
	})
	step("Argo CD", func() error {
		if err := argocd.Install(ctx, r.c, root); err != nil {
			return err
		}
		// The controller runs with the tree's argocd-cmd-params-cm, as in a cluster.
		params, err := argocd.ControllerEnv(ctx, root)
		if err != nil {
			return err
		}
		return argocd.Start(ctx, r.cp, argocd.Binaries{ArgoCD: e["ARGOCD_BIN"], Helm: e["HELM_BIN"], Redis: e["REDIS_SERVER_BIN"]},
			argocd.Options{Env: append(r.proxy.Env(), params...), CABundle: bundle, Resync: 15 * time.Second})
	})
	return r
}

// serveCharts serves a stand-in for every chart the tree pins from a
// remote HTTP repository (Applications with spec.source.chart).
func serveCharts(ctx context.Context, p *proxy.Proxy) error {
	var files []string
	for _, dir := range []string{"clusters", "platform"} {
		fs, err := manifest.YAMLFiles(filepath.Join(root, dir), nil)
		if err != nil {
			return err
		}
		files = append(files, fs...)
	}
	byRepo := map[string][]charts.Chart{}
	for _, f := range files {
		objs, err := manifest.ReadFile(f)
		if err != nil {
			continue // not every YAML file is a manifest (values, workflows)
		}
		for _, o := range objs {
			repo, _, _ := unstructured.NestedString(o.Object, "spec", "source", "repoURL")
			chart, _, _ := unstructured.NestedString(o.Object, "spec", "source", "chart")
			version, _, _ := unstructured.NestedString(o.Object, "spec", "source", "targetRevision")
			if o.GetKind() != "Application" || chart == "" || !strings.HasPrefix(repo, "https://") {
				continue
			}
			c := charts.Chart{Name: chart, Version: version}
			if chart == "kube-prometheus-stack" {
				// The operator's CRDs: platform-observability's rules need them.
				if c.Files, err = operatorCRDs(ctx); err != nil {
					return err
				}
			}
			byRepo[repo] = append(byRepo[repo], c)
		}
	}
	for base, cs := range byRepo {
		r, err := charts.NewRepo(base, cs...)
		if err != nil {
			return err
		}
		host := strings.SplitN(strings.TrimPrefix(base, "https://"), "/", 2)[0]
		p.Serve(host, r)
	}
	return nil
}

func operatorCRDs(ctx context.Context) (map[string][]byte, error) {
	dir, err := crds.Locate(ctx, crds.Sources[3])
	if err != nil {
		return nil, err
	}
	fs, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, f := range fs {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out["crds/"+filepath.Base(f)] = b
	}
	return out, nil
}

// servePackages puts what `make package` built (for this machine's
// architecture), and stand-ins for the pinned provider-aws packages, where
// the synced tree's package references point.
func servePackages(ctx context.Context, log *slog.Logger, p *proxy.Proxy, e map[string]string, tr tree) error {
	reg, err := xpkgs.NewRegistry(log)
	if err != nil {
		return err
	}
	if tr.function == "" {
		return fmt.Errorf("the synced tree declares no Function")
	}
	if err := reg.PushFile(filepath.Join(e["PACKAGES_DIR"], "function-unsilo-"+goruntime.GOARCH+".xpkg"), tr.function); err != nil {
		return err
	}
	dir, err := crds.Locate(ctx, crds.Sources[0])
	if err != nil {
		return err
	}
	if err := reg.StandInProviders(filepath.Dir(filepath.Dir(dir)), tr.providers, tr.kinds); err != nil {
		return err
	}
	for _, h := range xpkgs.Hosts(append(tr.providers, tr.function)...) {
		p.Serve(h, reg.Handler())
	}
	return nil
}
