//go:build e2e

package controlplane_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/e2e/controlplane"
	"github.com/unsilo/unsilo/e2e/proxy"
	"github.com/unsilo/unsilo/internal/crds"
)

// The API server calls Crossplane's webhooks through the e2e proxy (its
// HTTPS_PROXY), by the Service name Crossplane registered them under: a
// Usage's webhook refuses to delete the used object while its user exists,
// and lets it go once the user is deleted.
func TestAPIServerCallsCrossplaneWebhooksThroughTheProxy(t *testing.T) {
	bin := os.Getenv("CROSSPLANE_CORE_BIN")
	// The garbage collector deletes the Usage with its user (Crossplane
	// makes the user its owner).
	bins := controlplane.Binaries{Etcd: os.Getenv("ETCD_BIN"), APIServer: os.Getenv("KUBE_APISERVER_BIN"), ControllerManager: os.Getenv("KUBE_CONTROLLER_MANAGER_BIN")}
	if bins.Etcd == "" || bins.APIServer == "" || bins.ControllerManager == "" || bin == "" {
		t.Fatal("set ETCD_BIN, KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN and CROSSPLANE_CORE_BIN (make e2e does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ca, err := proxy.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	p := proxy.New(ca, log)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	bins.APIServerEnv = p.Env()
	cp, err := controlplane.Start(ctx, log, bins, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()
	dir, err := crds.Locate(ctx, crds.Sources[1])
	if err != nil {
		t.Fatal(err)
	}
	hooks := controlplane.FreePort()
	p.Tunnel(controlplane.WebhookService, "127.0.0.1:"+strconv.Itoa(hooks))
	if err := cp.StartCrossplane(ctx, bin, dir, hooks, p.Env()); err != nil {
		t.Fatalf("%v\n%s", err, cp.Log("crossplane"))
	}
	c, err := cp.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	obj := func(api, kind, name string, spec map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": api, "kind": kind,
			"metadata": map[string]any{"name": name, "namespace": "default"}}}
		if spec != nil {
			u.Object["spec"] = spec
		}
		return u
	}
	ref := func(name string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "resourceRef": map[string]any{"name": name}}
	}
	for _, u := range []*unstructured.Unstructured{
		obj("v1", "ConfigMap", "database", nil),
		obj("v1", "ConfigMap", "portal", nil),
		obj("protection.crossplane.io/v1beta1", "Usage", "portal-uses-database", map[string]any{"of": ref("database"), "by": ref("portal")}),
	} {
		if err := c.Apply(ctx, u, false); err != nil {
			t.Fatal(err)
		}
	}
	// Ready: Crossplane resolved both ends and labelled the database in use.
	var ready string
	if !controlplane.Poll(ctx, time.Minute, func() bool {
		u, err := c.Get(ctx, "protection.crossplane.io/v1beta1", "Usage", "default", "portal-uses-database")
		if err != nil {
			return false
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, cd := range conds {
			if m, _ := cd.(map[string]any); m["type"] == "Ready" {
				ready = fmt.Sprint(m["status"], " ", m["reason"], " ", m["message"])
				return m["status"] == "True"
			}
		}
		return false
	}) {
		t.Fatalf("the Usage never became Ready (%s):\n%s", ready, cp.Log("crossplane"))
	}
	err = c.Delete(ctx, "v1", "ConfigMap", "default", "database")
	if err == nil || !strings.Contains(err.Error(), "nousages.protection.crossplane.io") {
		t.Fatalf("deleting the used ConfigMap: got %v, want the Usage webhook's refusal\n%s", err, cp.Log("kube-apiserver"))
	}
	t.Logf("the API server, through the proxy: %v", err)
	if err := c.Delete(ctx, "v1", "ConfigMap", "default", "portal"); err != nil {
		t.Fatal(err)
	}
	// Once the user is gone, so is the Usage, and the webhook lets the
	// deletion through (retried, as the garbage collector does).
	if !controlplane.Poll(ctx, time.Minute, func() bool {
		err = c.Delete(ctx, "v1", "ConfigMap", "default", "database")
		return err == nil || strings.Contains(err.Error(), "not found")
	}) {
		t.Fatalf("the used ConfigMap could not be deleted a minute after its user was (%v):\n%s", err, cp.Log("crossplane"))
	}
}
