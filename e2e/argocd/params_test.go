package argocd

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// The tree's controller parameters reach the rig's controller under the
// names Argo CD's StatefulSet gives them; a parameter the rig cannot apply
// fails instead of being dropped.
func TestControllerEnvFollowsTheTree(t *testing.T) {
	env, err := ControllerEnv(context.Background(), "../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ARGOCD_APPLICATION_CONTROLLER_PERSIST_RESOURCE_HEALTH=true",
		"ARGOCD_APPLICATION_CONTROLLER_STATUS_PROCESSORS=40",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("ControllerEnv = %q, want %s among them (platform/argocd/core/argocd.yaml configs.params)", env, want)
		}
	}

	names := map[string]string{"controller.status.processors": "ARGOCD_APPLICATION_CONTROLLER_STATUS_PROCESSORS"}
	for _, p := range []map[string]string{{"controller.no.such.key": "1"}, {"server.insecure": "true"}} {
		if _, err := mapParams(p, names, "sts.yaml"); err == nil || !strings.Contains(err.Error(), "configs.params.") {
			t.Errorf("mapParams(%v) = %v, want an error naming the parameter", p, err)
		}
	}
}
