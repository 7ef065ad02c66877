package cluster

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/compose/composetest"
)

func TestMain(m *testing.M) { os.Exit(composetest.Main(m, API{})) }

func xr(spec map[string]any) *resource.Composite {
	return composetest.XR("Cluster", "platform", "tools", spec)
}

func base() map[string]any {
	return map[string]any{
		"networkRef": map[string]any{"name": "net"},
		"accountId":  "123456789012",
		"nodeGroups": []any{map[string]any{"name": "system", "instanceTypes": []any{"m7g.large"}, "min": int64(2), "max": int64(4)}},
		"workloads": map[string]any{
			"lakeBucketArn": "arn:aws:s3:::unsilo-lake-raw-dev",
		},
	}
}

var observed = composetest.Observed

func request(spec map[string]any, obs map[resource.Name]resource.ObservedComposed) *compose.Request {
	net := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"region": "ap-northeast-2"}}}
	return &compose.Request{XR: xr(spec), Observed: obs, Required: map[string][]resource.Required{"network": {{Resource: net}}}}
}

func TestClusterWaitsForItsKey(t *testing.T) {
	res, err := API{}.Compose(context.Background(), request(base(), nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []resource.Name{"cluster", "nodegroup-system", "addon-vpc-cni", "pod-identity-log-shipper"} {
		if _, ok := res.Resources[name]; ok {
			t.Errorf("%s composed before the secrets key exists", name)
		}
	}
	if _, ok := res.Resources["secrets-key"]; !ok {
		t.Fatal("no secrets key")
	}

	res, err = API{}.Compose(context.Background(), request(base(), observed(map[string]map[string]any{"secrets-key": {"arn": "arn:aws:kms:ap-northeast-2:123456789012:key/k"}, "launch-template-system": {"latestVersion": 3.0}})))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []resource.Name{"cluster", "nodegroup-system", "addon-vpc-cni", "addon-eks-pod-identity-agent", "pod-identity-log-shipper", "pod-identity-crossplane"} {
		if _, ok := res.Resources[name]; !ok {
			t.Errorf("%s missing once the key exists", name)
		}
	}
	cd, _ := composed.From(res.Resources["cluster"])
	if arn, _ := cd.GetString("spec.forProvider.encryptionConfig.provider.keyArn"); arn != "arn:aws:kms:ap-northeast-2:123456789012:key/k" {
		t.Errorf("cluster encrypts with %q", arn)
	}
	if pub, _ := cd.GetBool("spec.forProvider.vpcConfig.endpointPublicAccess"); pub {
		t.Error("no publicAccessCidrs must mean a private-only endpoint")
	}
}

func TestKubeconfigOnceEndpointKnown(t *testing.T) {
	obs := observed(map[string]map[string]any{
		"secrets-key": {"arn": "arn:aws:kms:ap-northeast-2:123456789012:key/k"},
		"cluster":     {"endpoint": "https://ABC.gr7.ap-northeast-2.eks.amazonaws.com", "certificateAuthority": []any{map[string]any{"data": "Q0E="}}},
	})
	res, err := API{}.Compose(context.Background(), request(base(), obs))
	if err != nil {
		t.Fatal(err)
	}
	s, ok := res.Resources["kubeconfig"].(*corev1.Secret)
	if !ok {
		t.Fatal("no kubeconfig Secret once the endpoint is known")
	}
	cfg := string(s.Data["kubeconfig"])
	for _, want := range []string{"https://ABC.gr7.ap-northeast-2.eks.amazonaws.com", "certificate-authority-data: Q0E=", "get-token"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("kubeconfig lacks %q:\n%s", want, cfg)
		}
	}
	if s.Name != "tools-kubeconfig" || res.Status["endpoint"] == nil {
		t.Errorf("secret %q, status %v", s.Name, res.Status)
	}
}

func TestInvalid(t *testing.T) {
	set := func(path []string, v any) map[string]any {
		s := base()
		_ = unstructured.SetNestedField(s, v, path...)
		return s
	}
	group := func(g map[string]any) map[string]any { return set([]string{"nodeGroups"}, []any{g}) }
	cases := map[string]struct {
		reason string
		spec   map[string]any
		field  string
	}{
		"WorldEndpoint": {"the API endpoint is never open to everyone", set([]string{"endpoint", "publicAccessCidrs"}, []any{"0.0.0.0/0"}), "spec.endpoint.publicAccessCidrs[0]"},
		"MinOverMax":    {"min > max", group(map[string]any{"name": "a", "instanceTypes": []any{"m7g.large"}, "min": int64(5), "max": int64(2)}), "spec.nodeGroups[0].min"},
		"NoTypes":       {"a group needs instance types", group(map[string]any{"name": "a", "min": int64(1), "max": int64(2)}), "spec.nodeGroups[0].instanceTypes"},
		"BadRole":       {"access roles are role ARNs", set([]string{"access", "adminRoleArn"}, "admin"), "spec.access.adminRoleArn"},
		"NoGroups":      {"a cluster needs nodes", set([]string{"nodeGroups"}, []any{}), "spec.nodeGroups"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := API{}.Compose(context.Background(), request(tc.spec, nil))
			fe, ok := compose.AsFieldError(err)
			if !ok || fe.Field != tc.field {
				t.Fatalf("%s: want a field error on %s, got %v", tc.reason, tc.field, err)
			}
		})
	}
}
