package argocd

import (
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/yaml"
)

// ScriptFor finds the health check Argo CD applies to group/kind, from the
// argocd-cm data: the `resource.customizations` map keyed "group/kind"
// (globs allowed, which ConfigMap keys cannot hold) or a split key
// "resource.customizations.health.<group>_<kind>".
func ScriptFor(data map[string]string, group, kind string) (string, bool, error) {
	if raw, ok := data["resource.customizations"]; ok {
		var m map[string]struct {
			Health string `json:"health.lua"`
		}
		if err := yaml.UnmarshalStrict([]byte(raw), &m); err != nil {
			return "", false, fmt.Errorf("resource.customizations: %w", err)
		}
		for k, v := range m {
			g, knd, ok := strings.Cut(k, "/")
			if !ok || v.Health == "" {
				continue
			}
			gm, _ := path.Match(g, group)
			km, _ := path.Match(knd, kind)
			if gm && km {
				return v.Health, true, nil
			}
		}
	}
	if s, ok := data["resource.customizations.health."+group+"_"+kind]; ok {
		return s, true, nil
	}
	return "", false, nil
}
