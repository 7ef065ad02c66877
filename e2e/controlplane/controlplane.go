// Package controlplane runs a real Kubernetes API server (with etcd) and
// Crossplane core on loopback, built from Go modules (tools/), so that
// manifests are judged by the real admission path: CEL rules, defaults,
// unknown fields, ordering. Used by the e2e tests (make e2e).
package controlplane

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// Binaries are the programs a control plane runs. ControllerManager is
// optional: with it, kube-controller-manager runs only its garbage
// collector, which carries out foreground and owner-reference deletion.
type Binaries struct {
	Etcd, APIServer, Crossplane, ControllerManager string
	// APIServerEnv is the kube-apiserver's extra environment: with the e2e
	// proxy's HTTPS_PROXY, its webhook client (client-go's transport, which
	// honours it) reaches a Service's webhook by name through the proxy.
	APIServerEnv []string
}

// ControlPlane is a running etcd + kube-apiserver.
type ControlPlane struct {
	Dir        string
	Config     *rest.Config
	Kubeconfig string
	log        *slog.Logger
	mu         sync.Mutex
	procs      []*exec.Cmd
}

// Start runs etcd and kube-apiserver in dir and waits until /readyz.
func Start(ctx context.Context, log *slog.Logger, bins Binaries, dir string) (*ControlPlane, error) {
	cp := &ControlPlane{Dir: dir, log: log}
	etcdPort, peerPort, apiPort := freePort(), freePort(), freePort()
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	if err := cp.spawn(ctx, "etcd", bins.Etcd,
		"--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", "http://127.0.0.1:"+strconv.Itoa(peerPort),
		"--initial-advertise-peer-urls", "http://127.0.0.1:"+strconv.Itoa(peerPort),
		"--initial-cluster", "default=http://127.0.0.1:"+strconv.Itoa(peerPort),
		"--unsafe-no-fsync", // test data, thrown away
	); err != nil {
		return nil, err
	}
	token, err := cp.credentials()
	if err != nil {
		cp.Stop()
		return nil, err
	}
	if err := cp.spawnEnv(ctx, "kube-apiserver", bins.APIServer, bins.APIServerEnv,
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(apiPort),
		"--cert-dir", filepath.Join(dir, "certs"),
		"--token-auth-file", filepath.Join(dir, "tokens.csv"),
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range", "10.0.0.0/24",
		"--disable-admission-plugins", "ServiceAccount",
	); err != nil {
		cp.Stop()
		return nil, err
	}
	cp.Config = &rest.Config{
		Host:            "https://127.0.0.1:" + strconv.Itoa(apiPort),
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}, // its own self-signed serving cert
		QPS:             200, Burst: 400,
		// Deprecation and finalizer-name warnings are Argo CD's and
		// Crossplane's to fix; refusals come back as errors.
		WarningHandler: rest.NoWarnings{},
	}
	cp.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(cp.Kubeconfig, []byte(fmt.Sprintf(kubeconfig, cp.Config.Host, token)), 0o600); err != nil {
		cp.Stop()
		return nil, err
	}
	if err := cp.waitReady(ctx, 60*time.Second); err != nil {
		cp.Stop()
		return nil, err
	}
	if bins.ControllerManager != "" {
		if err := cp.spawn(ctx, "kube-controller-manager", bins.ControllerManager,
			"--kubeconfig", cp.Kubeconfig, "--controllers", "garbage-collector-controller",
			"--leader-elect=false", "--secure-port=0", "--use-service-account-credentials=false"); err != nil {
			cp.Stop()
			return nil, err
		}
	}
	return cp, nil
}

const kubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "%s", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: "%s"}}]
contexts: [{name: local, context: {cluster: local, user: admin, namespace: default}}]
current-context: local
`

// credentials writes the admin token and the service account key pair.
func (cp *ControlPlane) credentials() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b)
	if err := os.WriteFile(filepath.Join(cp.Dir, "tokens.csv"), []byte(token+",admin,admin,system:masters\n"), 0o600); err != nil {
		return "", err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(cp.Dir, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return "", err
	}
	return token, os.WriteFile(filepath.Join(cp.Dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
}

// spawn starts a process whose output goes to dir/<name>.log.
func (cp *ControlPlane) spawn(ctx context.Context, name, bin string, args ...string) error {
	return cp.spawnEnv(ctx, name, bin, nil, args...)
}

func (cp *ControlPlane) spawnEnv(ctx context.Context, name, bin string, env []string, args ...string) error {
	logf, err := os.Create(filepath.Join(cp.Dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+filepath.Join(cp.Dir, "kubeconfig")), env...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start %s (%s): %w", name, bin, err)
	}
	cp.log.Info("started", "process", name, "pid", cmd.Process.Pid, "log", logf.Name())
	cp.mu.Lock()
	cp.procs = append(cp.procs, cmd)
	cp.mu.Unlock()
	return nil
}

// Spawn starts another process against this control plane (KUBECONFIG set).
func (cp *ControlPlane) Spawn(ctx context.Context, name, bin string, args ...string) error {
	return cp.spawn(ctx, name, bin, args...)
}

// SpawnEnv is Spawn with extra environment (later entries win).
func (cp *ControlPlane) SpawnEnv(ctx context.Context, name, bin string, env []string, args ...string) error {
	return cp.spawnEnv(ctx, name, bin, env, args...)
}

// Run runs a process to completion against this control plane.
func (cp *ControlPlane) Run(ctx context.Context, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cp.Kubeconfig)
	return cmd.CombinedOutput()
}

// Stop kills every process, newest first, and waits for them.
func (cp *ControlPlane) Stop() {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for i := len(cp.procs) - 1; i >= 0; i-- {
		p := cp.procs[i]
		_ = p.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	cp.procs = nil
}

// Log returns a process's log, for failure messages.
func (cp *ControlPlane) Log(name string) string {
	b, _ := os.ReadFile(filepath.Join(cp.Dir, name+".log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (cp *ControlPlane) waitReady(ctx context.Context, timeout time.Duration) error {
	c, err := rest.HTTPClientFor(cp.Config)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cp.Config.Host+"/readyz", nil)
		resp, err := c.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("readyz %d: %s", resp.StatusCode, body)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond): // polling /readyz
		}
	}
	return errors.Join(fmt.Errorf("kube-apiserver not ready in %s", timeout), last, errors.New(cp.Log("kube-apiserver")))
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err) // no loopback port at all: nothing can run
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreePort is a loopback port free at the time of asking, for processes the
// rig starts.
func FreePort() int { return freePort() }

// WaitTCP waits until something accepts connections on addr.
func WaitTCP(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close() // only whether it answers matters
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s: %w", addr, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond): // polling a port that a process is opening
		}
	}
}

// RSS is the resident memory of every process the rig started plus this
// one, in bytes (from /proc/<pid>/status), for the e2e's peak-memory figure.
func (cp *ControlPlane) RSS() int64 {
	cp.mu.Lock()
	pids := []int{os.Getpid()}
	for _, p := range cp.procs {
		pids = append(pids, p.Process.Pid)
	}
	cp.mu.Unlock()
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		if err != nil {
			continue // exited
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				total += kb * 1024
			}
		}
	}
	return total
}

// Poll calls f until it returns true, timeout passes or ctx ends; false
// unless f said true. Controllers report through status writes, so the
// e2e tests wait on them by polling.
func Poll(ctx context.Context, timeout time.Duration, f func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if f() {
			return true
		}
		time.Sleep(time.Second) // polling controllers' status writes
	}
	return false
}
