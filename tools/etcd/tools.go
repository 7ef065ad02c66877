//go:build tools

// Package tools pins etcd, kube-apiserver's store in `make e2e`.
package tools

import _ "go.etcd.io/etcd/server/v3"
