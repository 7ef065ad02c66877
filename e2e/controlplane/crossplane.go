package controlplane

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const xpNamespace = "crossplane-system"

// WebhookService is the Service Crossplane's webhook configurations name
// (the chart's): the API server dials it by name, so whoever starts
// Crossplane with webhooks routes it to the webhook port.
const WebhookService = "crossplane-webhooks." + xpNamespace + ".svc:9443"

// StartCrossplane installs Crossplane core's CRDs and certificates with
// `crossplane core init` and runs `crossplane core start` against the API
// server. webhookPort 0 turns its webhooks off (and with them the Usage
// controllers); otherwise its webhook server listens there and init
// registers the webhook configurations for WebhookService. env and start's
// extra args come on top (the e2e network, --ca-bundle-path).
func (cp *ControlPlane) StartCrossplane(ctx context.Context, bin, crdsDir string, webhookPort int, env []string, extra ...string) error {
	kc, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: xpNamespace}}
	if _, err := kc.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	// The chart's service account: the package runtime controller reads
	// its image pull secrets before it builds any runtime Deployment.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "crossplane", Namespace: xpNamespace}}
	if _, err := kc.CoreV1().ServiceAccounts(xpNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	tls := []string{"--tlsca-secret-name=crossplane-root-ca", "--tls-server-secret-name=crossplane-tls-server", "--tls-client-secret-name=crossplane-tls-client"}
	// --activation=*: the default activation policy the Helm chart installs
	// (provider.defaultActivations), so SafeStart providers' MRDs activate.
	hooks := []string{"--webhook-enabled=false"}
	if webhookPort != 0 {
		hooks = []string{"--webhook-enabled=true", "--webhook-service-name=crossplane-webhooks", "--webhook-service-namespace=" + xpNamespace,
			"--webhook-service-port=9443", "--webhook-configurations-path=" + filepath.Join(filepath.Dir(crdsDir), "webhookconfigurations")}
	}
	initArgs := append(append([]string{"core", "init", "--cr-ds-path=" + crdsDir, "--activation=*"}, hooks...), tls...)
	// The first init can fail while its own CRDs are not yet established
	// (`no matches for kind "Lock"`): retry until it succeeds.
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, err := cp.Run(ctx, bin, initArgs...)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("crossplane core init: %v\n%s", err, out)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second): // polling for CRDs to be established
		}
	}
	certs := filepath.Join(cp.Dir, "xp-certs")
	// init writes the client certificate Crossplane uses to call functions;
	// the server one (the webhooks') exists only with webhooks, so its
	// folder may stay empty.
	for _, s := range []struct{ secret, dir string }{{"crossplane-tls-client", "client"}, {"crossplane-tls-server", "server"}} {
		d := filepath.Join(certs, s.dir)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
		sec, err := kc.CoreV1().Secrets(xpNamespace).Get(ctx, s.secret, metav1.GetOptions{})
		if apierrors.IsNotFound(err) && s.dir == "server" {
			continue
		}
		if err != nil {
			return fmt.Errorf("crossplane core init left no %s: %w", s.secret, err)
		}
		for _, k := range []string{"tls.crt", "tls.key", "ca.crt"} {
			if err := os.WriteFile(filepath.Join(d, k), sec.Data[k], 0o600); err != nil {
				return err
			}
		}
	}
	cache := filepath.Join(cp.Dir, "xp-cache")
	// Crossplane writes pulled packages there and fails every pull with
	// "read/write on closed pipe" when the folder is missing.
	for _, d := range []string{"xpkg", "xfn"} {
		if err := os.MkdirAll(filepath.Join(cache, d), 0o700); err != nil {
			return err
		}
	}
	args := []string{"core", "start", "--webhook-enabled=false"}
	if webhookPort != 0 {
		args = []string{"core", "start", "--webhook-enabled=true", "--webhook-port=" + strconv.Itoa(webhookPort)}
	}
	args = append(args,
		"--xpkg-cache-dir="+filepath.Join(cache, "xpkg"), "--xfn-cache-dir="+filepath.Join(cache, "xfn"),
		"--tls-client-secret-name=crossplane-tls-client", "--tls-client-certs-dir="+filepath.Join(certs, "client"),
		"--tls-server-secret-name=crossplane-tls-server", "--tls-server-certs-dir="+filepath.Join(certs, "server"),
		"--metrics-port="+strconv.Itoa(freePort()), "--health-probe-port="+strconv.Itoa(freePort()))
	return cp.spawnEnv(ctx, "crossplane", bin, env, append(args, extra...)...)
}
