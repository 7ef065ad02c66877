//go:build tools

// Package tools pins the helm CLI that Argo CD's repo-server runs
// (`helm template`) in `make e2e`: v3.18.4, the version Argo CD v3.2 ships
// (its hack/tool-versions.sh).
package tools

import _ "helm.sh/helm/v3/cmd/helm"
