package verify

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

func obj(apiVersion, kind, name string, spec map[string]any) unstructured.Unstructured {
	u := unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "spec": spec}}
	u.SetAnnotations(map[string]string{render.AnnotationResourceName: name})
	return u
}

func fp(kv map[string]any) map[string]any { return map[string]any{"forProvider": kv} }

func readyXR(status string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": status, "message": "Unready resources: rag-api-config"}}}}}
}

func usageOf(component string) unstructured.Unstructured {
	return obj("protection.crossplane.io/v1beta1", "Usage", "usage", map[string]any{"of": map[string]any{"resourceSelector": map[string]any{"matchLabels": map[string]any{"platform.unsilo.dev/component": component}}}})
}

// TestAWSChecks: each class refuses its mistake with the AWS fact behind
// it, and passes the corrected form.
func TestAWSChecks(t *testing.T) {
	xr := manifest.Object{Unstructured: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "platform.unsilo.dev/v1alpha1", "kind": "Thing", "metadata": map[string]any{"name": "x", "namespace": "ns"},
		"spec": map[string]any{"environment": "prod"}}}}
	withNet := manifest.Object{Unstructured: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "platform.unsilo.dev/v1alpha1", "kind": "WebPortal", "metadata": map[string]any{"name": "x", "namespace": "ns"},
		"spec": map[string]any{"networkRef": map[string]any{"name": "shop"}}}}}
	policy := obj("autoscaling.aws.m.upbound.io/v1beta1", "Policy", "asg-cpu-target", fp(map[string]any{}))
	cases := map[string]struct {
		reason   string
		check    awsCheck
		xr       manifest.Object
		composed []unstructured.Unstructured
		xrReady  string
		want     string // a substring of the one finding; "" for none
	}{
		"KendraInSeoul": {"Kendra is not offered in ap-northeast-2", checkRegions, xr,
			[]unstructured.Unstructured{obj("kendra.aws.m.upbound.io/v1beta1", "Index", "index", fp(map[string]any{"region": "ap-northeast-2"}))}, "True", "kendra is not offered in ap-northeast-2"},
		"KendraInTokyo": {"Kendra is offered in ap-northeast-1", checkRegions, xr,
			[]unstructured.Unstructured{obj("kendra.aws.m.upbound.io/v1beta1", "Index", "index", fp(map[string]any{"region": "ap-northeast-1"}))}, "True", ""},
		"TokyoB": {"ap-northeast-1b is not offered to new accounts", checkRegions, xr,
			[]unstructured.Unstructured{obj("ec2.aws.m.upbound.io/v1beta1", "Subnet", "subnet-private-b", fp(map[string]any{"region": "ap-northeast-1", "availabilityZone": "ap-northeast-1b"}))}, "True", "not offered to new accounts"},
		"TokyoC": {"ap-northeast-1c is", checkRegions, xr,
			[]unstructured.Unstructured{obj("ec2.aws.m.upbound.io/v1beta1", "Subnet", "subnet-private-b", fp(map[string]any{"region": "ap-northeast-1", "availabilityZone": "ap-northeast-1c"}))}, "True", ""},
		"GlobalIAM": {"IAM is global: no region to check", checkRegions, xr,
			[]unstructured.Unstructured{obj("iam.aws.m.upbound.io/v1beta1", "Role", "r", fp(map[string]any{}))}, "True", ""},
		"LatestVersion": {"EKS reads back a number", checkSettling, xr,
			[]unstructured.Unstructured{obj("eks.aws.m.upbound.io/v1beta1", "NodeGroup", "ng", fp(map[string]any{"launchTemplate": map[string]any{"version": "$Latest"}}))}, "True", "version number"},
		"PinnedVersion": {"a number settles", checkSettling, xr,
			[]unstructured.Unstructured{obj("eks.aws.m.upbound.io/v1beta1", "NodeGroup", "ng", fp(map[string]any{"launchTemplate": map[string]any{"version": "3"}}))}, "True", ""},
		"DesiredBesidePolicy": {"target tracking owns the desired capacity", checkSettling, xr,
			[]unstructured.Unstructured{obj("autoscaling.aws.m.upbound.io/v1beta1", "AutoscalingGroup", "asg", fp(map[string]any{"desiredCapacity": 2.0})), policy}, "True", "scaling policy owns"},
		"DesiredNoPolicy": {"without a policy the spec owns it", checkSettling, xr,
			[]unstructured.Unstructured{obj("autoscaling.aws.m.upbound.io/v1beta1", "AutoscalingGroup", "asg", fp(map[string]any{"desiredCapacity": 2.0}))}, "True", ""},
		"TrailKeySelector": {"the selector gives the key id, CloudTrail reads back the ARN", checkSettling, xr,
			[]unstructured.Unstructured{obj("cloudtrail.aws.m.upbound.io/v1beta1", "Trail", "trail", fp(map[string]any{"kmsKeyIdSelector": map[string]any{}}))}, "True", "key ARN"},
		"NeverReady": {"a ConfigMap-like resource left unready keeps the XR Creating", checkReadiness, xr, nil, "False", "not Ready"},
		"Ready":      {"all ready", checkReadiness, xr, nil, "True", ""},
		"KeyNoUsage": {"a key nothing holds a Usage of is deleted under its data", checkDeletion, xr,
			[]unstructured.Unstructured{obj("kms.aws.m.upbound.io/v1beta1", "Key", "key", fp(map[string]any{}))}, "True", "Usage"},
		"KeyUsed": {"a key its bucket uses outlives it", checkDeletion, xr,
			[]unstructured.Unstructured{obj("kms.aws.m.upbound.io/v1beta1", "Key", "key", fp(map[string]any{})), usageOf("key")}, "True", ""},
		"ProdDBSkipsSnapshot": {"prod data keeps a final snapshot", checkDeletion, xr,
			[]unstructured.Unstructured{obj("rds.aws.m.upbound.io/v1beta1", "Instance", "database", fp(map[string]any{"deletionProtection": true, "skipFinalSnapshot": true}))}, "True", "final snapshot"},
		"NetworkNotUsed": {"an XR in a Network holds a Usage of it", checkDeletion, withNet, nil, "True", "no Usage of Network shop"},
	}
	c := checker(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fs := tc.check(c, tc.xr, &render.Output{XR: readyXR(tc.xrReady), Composed: tc.composed})
			switch {
			case tc.want == "" && len(fs) > 0:
				t.Errorf("%s: unexpected %v", tc.reason, fs)
			case tc.want != "" && (len(fs) != 1 || !strings.Contains(fs[0].Reason, tc.want)):
				t.Errorf("%s: want one finding with %q, got %v", tc.reason, tc.want, fs)
			}
		})
	}
}
