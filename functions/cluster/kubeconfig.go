package cluster

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func (b *builder) kubeconfigName() string { return b.req.XR.Resource.GetName() + "-kubeconfig" }

// kubeconfig composes a Secret holding a kubeconfig for the cluster once
// its endpoint and CA are known. v2 XRs write no connection secrets, so the
// function composes one; it holds no credential: `aws eks get-token` gets
// one for whoever uses it, through their own IAM identity.
func (b *builder) kubeconfig() error {
	endpoint := b.req.AtProvider("cluster", "endpoint")
	o, ok := b.req.Observed["cluster"]
	if endpoint == "" || !ok || o.Resource == nil {
		b.out.Defer("kubeconfig", "the endpoint of cluster")
		return nil
	}
	ca, err := o.Resource.GetString("status.atProvider.certificateAuthority[0].data")
	if err != nil || ca == "" {
		b.out.Defer("kubeconfig", "the certificate authority of cluster")
		return nil
	}
	name := b.clusterName()
	cfg := map[string]any{
		"apiVersion": "v1", "kind": "Config", "current-context": name,
		"clusters": []any{map[string]any{"name": name, "cluster": map[string]any{"server": endpoint, "certificate-authority-data": ca}}},
		"contexts": []any{map[string]any{"name": name, "context": map[string]any{"cluster": name, "user": name}}},
		"users": []any{map[string]any{"name": name, "user": map[string]any{"exec": map[string]any{
			"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
			"args": []any{"eks", "get-token", "--cluster-name", name, "--region", b.region},
		}}}},
	}
	y, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("cannot encode the kubeconfig: %w", err)
	}
	m := b.meta("kubeconfig")
	m.Name = b.kubeconfigName()
	b.out.Add("kubeconfig", &corev1.Secret{ObjectMeta: m, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"kubeconfig": y}})
	return nil
}
