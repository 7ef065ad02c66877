// Package main is the Argo CD that `make e2e` runs: only the
// application-controller, repo-server and applicationset-controller (plus
// the kustomize the repo-server shells out to), chosen by the binary's name
// or ARGOCD_BINARY_NAME as in Argo's own multi-call cmd/main.go. Linking
// only these leaves out argocd-server, dex, the CLI and the UI.
//
// The blank import names the module build.sh keys the cache by.
package main

import _ "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
