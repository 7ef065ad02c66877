//go:build tools

// Package tools pins kube-controller-manager, of which `make e2e` runs only
// the garbage collector: Argo CD prunes with foreground deletion and
// Crossplane's composed resources go with their XR through owner
// references, both of which the garbage collector carries out.
package tools

import _ "k8s.io/kubernetes/cmd/kube-controller-manager"
