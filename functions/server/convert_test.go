package server

import (
	"testing"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	"github.com/google/go-cmp/cmp"
	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"
	"google.golang.org/protobuf/testing/protocmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestToStructMatchesSDK pins toStruct to what the SDK's own
// composed.From + resource.AsStruct produce, field for field.
func TestToStructMatchesSDK(t *testing.T) {
	if err := ec2.AddToScheme(composed.Scheme); err != nil {
		t.Fatal(err)
	}
	s, f, yes := "10.0.0.0/16", 443.0, true
	cases := map[string]struct {
		reason string
		obj    func() *ec2.SecurityGroupIngressRule
	}{
		"Full": {"labels, strings, numbers, bools and maps", func() *ec2.SecurityGroupIngressRule {
			return &ec2.SecurityGroupIngressRule{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
				Spec: ec2.SecurityGroupIngressRuleSpec{ForProvider: ec2.SecurityGroupIngressRuleParameters{
					CidrIPv4: &s, FromPort: &f, Tags: map[string]*string{"k": &s, "nil": nil},
					SecurityGroupIDSelector: &xpv1.NamespacedSelector{MatchControllerRef: &yes, MatchLabels: map[string]string{"x": "y"}},
					ToPort:                  &f,
				}},
			}
		}},
		"EmptyMeta": {"empty metadata is dropped, not sent as {}", func() *ec2.SecurityGroupIngressRule {
			return &ec2.SecurityGroupIngressRule{Spec: ec2.SecurityGroupIngressRuleSpec{ForProvider: ec2.SecurityGroupIngressRuleParameters{Region: &s}}}
		}},
		"DescriptionOnly": {"a single string field", func() *ec2.SecurityGroupIngressRule {
			r := &ec2.SecurityGroupIngressRule{}
			r.Spec.ForProvider.Description = &s
			return r
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cd, err := composed.From(tc.obj())
			if err != nil {
				t.Fatal(err)
			}
			want, err := resource.AsStruct(cd)
			if err != nil {
				t.Fatal(err)
			}
			got, err := toStruct(&structEncoder{}, tc.obj())
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
				t.Errorf("%s: (-sdk +toStruct):\n%s", tc.reason, d)
			}
		})
	}
}
