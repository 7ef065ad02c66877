package argocd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/unsilo/unsilo/e2e/controlplane"
	"github.com/unsilo/unsilo/internal/crds"
)

// treeArgoCD is where the tree installs Argo CD: its chart values'
// configs.params become argocd-cmd-params-cm.
const treeArgoCD = "platform/argocd/core/argocd.yaml"

// ControllerEnv is the environment the application-controller reads the
// tree's argocd-cmd-params-cm from, mapped as Argo CD's own StatefulSet maps
// it (env from configMapKeyRef), so the rig's controller runs with the
// settings a cluster's does. A controller.* parameter the StatefulSet does
// not read is an error, as is any other parameter: the rig would silently
// run differently from the tree.
func ControllerEnv(ctx context.Context, repoRoot string) ([]string, error) {
	params, err := treeParams(filepath.Join(repoRoot, treeArgoCD))
	if err != nil {
		return nil, err
	}
	v, err := Version(repoRoot)
	if err != nil {
		return nil, err
	}
	dir, err := crds.Locate(ctx, crds.Source{Name: "argo-cd", Module: "github.com/argoproj/argo-cd/v3", Version: v, Dir: "manifests"})
	if err != nil {
		return nil, err
	}
	sts := filepath.Join(dir, "base", "application-controller", "argocd-application-controller-statefulset.yaml")
	names, err := paramEnvNames(sts)
	if err != nil {
		return nil, err
	}
	return mapParams(params, names, sts)
}

func mapParams(params, names map[string]string, from string) ([]string, error) {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var env []string
	for _, k := range keys {
		name, ok := names[k]
		if !ok || !strings.HasPrefix(k, "controller.") {
			return nil, fmt.Errorf("%s: configs.params.%s: the rig runs only the application-controller from these, and %s reads no such key", treeArgoCD, k, from)
		}
		env = append(env, name+"="+params[k])
	}
	return env, nil
}

// treeParams reads configs.params of the tree's argo-cd chart Application.
func treeParams(path string) (map[string]string, error) {
	objs, err := controlplane.ReadYAML(path)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.GetKind() != "Application" || o.GetName() != "argocd" {
			continue
		}
		raw, found, err := unstructured.NestedMap(o.Object, "spec", "source", "helm", "valuesObject", "configs", "params")
		if err != nil {
			return nil, fmt.Errorf("%s: Application argocd: configs.params: %w", path, err)
		}
		if !found {
			return map[string]string{}, nil
		}
		params := map[string]string{}
		for k, v := range raw {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s: configs.params.%s is %T; ConfigMap values are strings (quote it)", path, k, v)
			}
			params[k] = s
		}
		return params, nil
	}
	return nil, fmt.Errorf("%s: no Application argocd", path)
}

// paramEnvNames maps argocd-cmd-params-cm keys to the environment variable
// the controller StatefulSet sets from each.
func paramEnvNames(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var sts struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Env []struct {
							Name      string
							ValueFrom *struct {
								ConfigMapKeyRef *struct{ Name, Key string } `json:"configMapKeyRef"`
							} `json:"valueFrom"`
						}
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &sts); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	names := map[string]string{}
	for _, c := range sts.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			if r := e.ValueFrom; r != nil && r.ConfigMapKeyRef != nil && r.ConfigMapKeyRef.Name == "argocd-cmd-params-cm" {
				names[r.ConfigMapKeyRef.Key] = e.Name
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no env from argocd-cmd-params-cm", path)
	}
	return names, nil
}
