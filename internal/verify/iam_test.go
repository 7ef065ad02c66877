package verify

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestRoles: every role the examples compose is one the control plane's
// provider may create and pass, within the boundary; each way to break
// that is a finding.
func TestRoles(t *testing.T) {
	files := []string{
		"compositions/cluster/examples/prod.rendered.yaml", "compositions/datalake/examples/dev.rendered.yaml",
		"compositions/webportal/examples/dev.rendered.yaml", "compositions/knowledgebase/examples/prod.rendered.yaml",
	}
	const acct = "123456789012"
	setInline := func(t *testing.T, all []convergedXR, comp, doc string) {
		mutate(t, all, comp, func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"name": "p", "policy": doc}}, "spec", "forProvider", "inlinePolicy")
		})
	}
	cases := map[string]struct {
		reason string
		edit   func(t *testing.T, all []convergedXR)
		want   string
	}{
		"AsComposed": {"every composed role passes", func(*testing.T, []convergedXR) {}, ""},
		"NoBoundary": {"a DataLake role without the boundary (issue 13 part 1 left them so)", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "crawler-role", func(u *unstructured.Unstructured) {
				unstructured.RemoveNestedField(u.Object, "spec", "forProvider", "permissionsBoundary")
			})
		}, "carries the control plane's permissions boundary"},
		"OutsidePath": {"the provider may create roles only under /unsilo/", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "instance-role", func(u *unstructured.Unstructured) {
				unstructured.RemoveNestedField(u.Object, "spec", "forProvider", "path")
			})
		}, "may not iam:CreateRole on arn:aws:iam::" + acct + ":role/shop-"},
		"ForeignBoundary": {"a boundary no Cluster composes", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "firehose-role", func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(u.Object, "arn:aws:iam::"+acct+":policy/unsilo/other", "spec", "forProvider", "permissionsBoundary")
			})
		}, "is the boundary of no Cluster"},
		"IAMStar": {"no role may administer IAM", func(t *testing.T, all []convergedXR) {
			setInline(t, all, "index-role", `{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Action":"iam:*","Resource":"*"}]}`)
		}, "allows iam:*"},
		"PassRoleStar": {"PassRole only on named roles", func(t *testing.T, all []convergedXR) {
			setInline(t, all, "index-role", `{"Version":"2012-10-17","Statement":[{"Sid":"Pass","Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}`)
		}, "allows iam:PassRole on *"},
		"DeadGrant": {"an action the boundary does not allow is a dead grant", func(t *testing.T, all []convergedXR) {
			setInline(t, all, "rag-api-role", `{"Version":"2012-10-17","Statement":[{"Sid":"Queue","Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:ap-northeast-1:123456789012:t"}]}`)
		}, "sns:Publish, which the permissions boundary"},
		"UnpassableService": {"a role trusted by a service the provider may not pass roles to", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "crawler-role", func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(u.Object, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"lambda.amazonaws.com"}}]}`, "spec", "forProvider", "assumeRolePolicy")
			})
		}, "may not iam:PassRole"},
		"ProfileOutsidePath": {"the provider may create instance profiles only under /unsilo/", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "instance-profile", func(u *unstructured.Unstructured) {
				unstructured.RemoveNestedField(u.Object, "spec", "forProvider", "path")
			})
		}, "may not iam:CreateInstanceProfile on arn:aws:iam::" + acct + ":instance-profile/shop-"},
		"ProviderPathElsewhere": {"only a Cluster composes the provider's own role", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "crawler-role", func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(u.Object, "/unsilo-provider/", "spec", "forProvider", "path")
			})
		}, "only a Cluster composes"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			all := goldenRenders(t, files...)
			tc.edit(t, all)
			fs := checkRoles(all)
			if tc.want == "" && len(fs) > 0 {
				t.Errorf("%s: unexpected %v", tc.reason, fs)
			}
			found := false
			for _, f := range fs {
				found = found || strings.Contains(f.Reason, tc.want)
			}
			if tc.want != "" && !found {
				t.Errorf("%s: want a finding saying %q, got %v", tc.reason, tc.want, fs)
			}
		})
	}
}
