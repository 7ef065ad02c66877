package xpkgs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/unsilo/unsilo/e2e/controlplane"
	"github.com/unsilo/unsilo/e2e/fakeaws"
	"github.com/unsilo/unsilo/e2e/proxy"
)

// Runtime runs, as local processes, the package runtimes Crossplane asks
// for with Deployments (there is no kubelet on loopback): the function
// binary on the TLS certificates Crossplane issued for its Service, reached
// at the Service's address through the proxy, and the simulated AWS for
// every provider revision's CRDs. Once a runtime serves, it reports that
// revision's Deployment available, as the kubelet and deployment
// controller would; it touches no other Deployment.
type Runtime struct {
	CP          *controlplane.ControlPlane
	Client      *controlplane.Client
	Proxy       *proxy.Proxy
	FunctionBin string
	AWS         *fakeaws.AWS
	Log         *slog.Logger

	mu      sync.Mutex
	serving map[string]string // revision name -> what serves it
}

const ns = "crossplane-system"

// Run reconciles until ctx ends.
func (r *Runtime) Run(ctx context.Context) error {
	kc, err := kubernetes.NewForConfig(r.CP.Config)
	if err != nil {
		return err
	}
	r.serving = map[string]string{}
	go func() {
		for ctx.Err() == nil {
			if err := r.once(ctx, kc); err != nil {
				r.Log.Warn("package runtime", "error", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond): // polling revisions; the rig has no informers of its own
			}
		}
	}()
	return nil
}

// Serving says what runs each revision, for failure messages.
func (r *Runtime) Serving() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for k, v := range r.serving {
		out[k] = v
	}
	return out
}

func (r *Runtime) once(ctx context.Context, kc kubernetes.Interface) error {
	fns, err := r.Client.List(ctx, "pkg.crossplane.io/v1", "FunctionRevision")
	if err != nil {
		return err
	}
	for i := range fns {
		if err := r.function(ctx, kc, &fns[i]); err != nil {
			return err
		}
	}
	provs, err := r.Client.List(ctx, "pkg.crossplane.io/v1", "ProviderRevision")
	if err != nil {
		return err
	}
	for i := range provs {
		if err := r.provider(ctx, &provs[i]); err != nil {
			return err
		}
	}
	if err := r.serveKinds(ctx); err != nil {
		return err
	}
	deps, err := kc.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range deps.Items {
		if err := r.available(ctx, kc, &deps.Items[i]); err != nil {
			return err
		}
	}
	return nil
}

func active(rev *unstructured.Unstructured) bool {
	s, _, _ := unstructured.NestedString(rev.Object, "spec", "desiredState")
	return s == "Active"
}

func (r *Runtime) isServing(rev string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.serving[rev]
	return ok
}

func (r *Runtime) function(ctx context.Context, kc kubernetes.Interface, rev *unstructured.Unstructured) error {
	if !active(rev) || r.isServing(rev.GetName()) {
		return nil
	}
	endpoint, _, _ := unstructured.NestedString(rev.Object, "status", "endpoint")
	secret, _, _ := unstructured.NestedString(rev.Object, "spec", "tlsServerSecretName")
	if endpoint == "" || secret == "" {
		return nil // Crossplane has not made the Service and certificate yet
	}
	sec, err := kc.CoreV1().Secrets(ns).Get(ctx, secret, metav1.GetOptions{})
	if err != nil || len(sec.Data["tls.crt"]) == 0 {
		return nil
	}
	dir := filepath.Join(r.CP.Dir, "fn-"+rev.GetName())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, k := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if err := os.WriteFile(filepath.Join(dir, k), sec.Data[k], 0o600); err != nil {
			return err
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", controlplane.FreePort())
	name := "function-" + rev.GetName()
	if err := r.CP.Spawn(ctx, name, r.FunctionBin, "--address", addr, "--tls-server-certs-dir", dir, "--metrics-address", ""); err != nil {
		return err
	}
	if err := controlplane.WaitTCP(ctx, addr, 30*time.Second); err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, r.CP.Log(name))
	}
	// status.endpoint is dns:///<service>.<namespace>:9443; Crossplane's
	// gRPC client leaves resolving it to the proxy.
	r.Proxy.Tunnel(strings.TrimPrefix(endpoint, "dns:///"), addr)
	r.mu.Lock()
	r.serving[rev.GetName()] = fmt.Sprintf("%s at %s for %s", r.FunctionBin, addr, endpoint)
	r.mu.Unlock()
	r.Log.Info("function runtime serving", "revision", rev.GetName(), "endpoint", endpoint, "local", addr)
	return nil
}

// provider: a provider revision is served once Crossplane reports it
// healthy (its package's definitions established); the simulated AWS
// serves every provider-aws kind whose CRD exists (serveKinds), as a
// SafeStart provider starts a controller for each definition activated.
func (r *Runtime) provider(_ context.Context, rev *unstructured.Unstructured) error {
	if !active(rev) || r.isServing(rev.GetName()) {
		return nil
	}
	conds, _, _ := unstructured.NestedSlice(rev.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "RevisionHealthy" && m["status"] == "True" {
			r.mu.Lock()
			r.serving[rev.GetName()] = "the simulated AWS (e2e/fakeaws)"
			r.mu.Unlock()
		}
	}
	return nil
}

// serveKinds starts the simulated AWS's controllers for every established
// namespaced provider-aws CRD (activated managed resource definitions).
func (r *Runtime) serveKinds(ctx context.Context) error {
	crds, err := r.Client.List(ctx, "apiextensions.k8s.io/v1", "CustomResourceDefinition")
	if err != nil {
		return err
	}
	var gvks []schema.GroupVersionKind
	for i := range crds {
		crd := &crds[i]
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(crd.Object, "spec", "scope")
		if !strings.HasSuffix(group, ".aws.m.upbound.io") || scope != "Namespaced" || !established(crd) {
			continue // ProviderConfigs are aws.m.upbound.io itself; legacy cluster-scoped kinds are not composed
		}
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			vm, _ := v.(map[string]any)
			if vm["storage"] == true {
				gvks = append(gvks, schema.GroupVersionKind{Group: group, Version: fmt.Sprint(vm["name"]), Kind: kind})
			}
		}
	}
	return r.AWS.Serve(gvks...)
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// available reports a package runtime's Deployment as the deployment
// controller would once its one replica is up: only for revisions a local
// process serves.
func (r *Runtime) available(ctx context.Context, kc kubernetes.Interface, d *appsv1.Deployment) error {
	owner := ""
	for _, o := range d.OwnerReferences {
		if o.Kind == "FunctionRevision" || o.Kind == "ProviderRevision" {
			owner = o.Name
		}
	}
	if owner == "" || !r.isServing(owner) {
		return nil
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue && d.Status.ObservedGeneration == d.Generation {
			return nil
		}
	}
	now := metav1.Now()
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
				Message: "e2e: served by " + r.Serving()[owner], LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", LastUpdateTime: now, LastTransitionTime: now},
		},
	}
	_, err := kc.AppsV1().Deployments(ns).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	return err
}
