// Package crds locates the CustomResourceDefinitions the platform's objects
// are validated against, offline: they ship inside Go modules (provider-aws,
// Crossplane, Argo CD), pinned here and fetched into the module cache by the
// go command like any dependency.
package crds

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
)

// Source is a folder of CRD YAML inside a pinned module.
type Source struct {
	Name    string
	Module  string
	Version string
	Dir     string // inside the module
}

// Sources are the schemas `unsilo verify` knows. provider-aws must match the
// version in go.mod, because the functions compose its Go types; a test
// checks that.
var Sources = []Source{
	{Name: "provider-aws", Module: "github.com/upbound/provider-aws/v2", Version: "v2.5.0", Dir: "package/crds"},
	{Name: "crossplane", Module: "github.com/crossplane/crossplane/v2", Version: "v2.2.0", Dir: "cluster/crds"},
	{Name: "argo-cd", Module: "github.com/argoproj/argo-cd/v3", Version: "v3.5.7", Dir: "manifests/crds"},
	// PrometheusRule and friends; the chart kube-prometheus-stack installs them.
	{Name: "prometheus-operator", Module: "github.com/prometheus-operator/prometheus-operator", Version: "v0.90.1", Dir: "example/prometheus-operator-crd"},
	// ExternalSecret, PushSecret, ClusterSecretStore, generators: the
	// version platform/secrets/apps installs (chart 0.16.2).
	{Name: "external-secrets", Module: "github.com/external-secrets/external-secrets", Version: "v0.16.2", Dir: "config/crds/bases"},
	// Cluster (Postgres): the operator version platform/n8n/apps installs (chart 0.26.1).
	{Name: "cloudnative-pg", Module: "github.com/cloudnative-pg/cloudnative-pg", Version: "v1.27.1", Dir: "config/crd/bases"},
}

// Locate returns the folder of a source's CRDs, downloading the module into
// the module cache if needed (a no-op when it is there already).
func Locate(ctx context.Context, s Source) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", s.Module+"@"+s.Version)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil || info.Dir == "" {
		return "", fmt.Errorf("cannot locate the %s CRDs (%s@%s) in the module cache: %v %s %s; try `go mod download %s@%s`",
			s.Name, s.Module, s.Version, runErr, info.Error, bytes.TrimSpace(stderr.Bytes()), s.Module, s.Version)
	}
	return filepath.Join(info.Dir, s.Dir), nil
}
