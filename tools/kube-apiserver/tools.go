//go:build tools

// Package tools pins kube-apiserver, the real admission path `make e2e`
// dry-runs every manifest against.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
