package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
	kustomize "sigs.k8s.io/kustomize/kustomize/v5/commands"

	appcontroller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	applicationset "github.com/argoproj/argo-cd/v3/cmd/argocd-applicationset-controller/commands"
	gitaskpass "github.com/argoproj/argo-cd/v3/cmd/argocd-git-ask-pass/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/argoproj/argo-cd/v3/util/log"
)

var known = map[string]bool{
	"argocd-application-controller": true, "argocd-repo-server": true, "argocd-applicationset-controller": true,
	"argocd-git-ask-pass": true, "kustomize": true,
}

func main() {
	// The name the binary was run under wins: the repo-server's children
	// (kustomize) inherit its ARGOCD_BINARY_NAME. Under another name (the
	// cached file, or `argocd` as git's askpass helper) the variable picks.
	name := filepath.Base(os.Args[0])
	if !known[name] {
		name = os.Getenv("ARGOCD_BINARY_NAME")
	}
	var cmd *cobra.Command
	switch name {
	case "argocd-application-controller":
		cmd = appcontroller.NewCommand()
	case "argocd-repo-server":
		cmd = reposerver.NewCommand()
	case "argocd-applicationset-controller":
		cmd = applicationset.NewCommand()
	case "argocd-git-ask-pass":
		cmd = gitaskpass.NewCommand()
	case "kustomize":
		// The repo-server runs `kustomize build` from PATH; Argo CD v3.2
		// ships kustomize 5.7 (hack/tool-versions.sh).
		cmd = kustomize.NewDefaultCommand()
	default:
		fmt.Fprintf(os.Stderr, "%s: not one of argocd-application-controller, argocd-repo-server, argocd-applicationset-controller, argocd-git-ask-pass, kustomize (set ARGOCD_BINARY_NAME or link under that name)\n", name)
		os.Exit(2)
	}
	if name != "kustomize" {
		// As Argo's cmd/main.go: klog follows Argo's log level and format.
		klog.SetLogger(log.NewLogrusLogger(log.NewWithCurrentConfig()))
	}
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
