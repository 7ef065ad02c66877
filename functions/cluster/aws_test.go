package cluster

import (
	"context"
	"encoding/json"
	"github.com/unsilo/unsilo/functions/compose/composetest"
	"slices"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
)

// running is the request once the key, the cluster and the launch template
// exist: everything the Cluster composes is there.
func running(t *testing.T) map[resource.Name]*composed.Unstructured {
	t.Helper()
	at := map[string]map[string]any{
		"secrets-key": {"arn": "arn:aws:kms:ap-northeast-2:123456789012:key/k"}, "launch-template-system": {"latestVersion": 3.0},
		"cluster": {"arn": "arn:aws:eks:ap-northeast-2:123456789012:cluster/platform-tools-eks"},
	}
	res, err := API{}.Compose(context.Background(), request(base(), observed(at)))
	if err != nil {
		t.Fatal(err)
	}
	// Then everything exists: the Usages between existing resources appear.
	for n := range res.Resources {
		if at[string(n)] == nil {
			at[string(n)] = map[string]any{}
		}
	}
	res, err = API{}.Compose(context.Background(), request(base(), observed(at)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[resource.Name]*composed.Unstructured{}
	for n, o := range res.Resources {
		cd, err := composed.From(o)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = cd
	}
	return out
}

func str(t *testing.T, cd *composed.Unstructured, path string) string {
	t.Helper()
	v, err := cd.GetString(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// TestNodeGroupSettles: EKS reads back the launch template version number
// and the autoscaler owns the desired size, so neither sits in forProvider
// as something that differs on every poll.
func TestNodeGroupSettles(t *testing.T) {
	ng := running(t)["nodegroup-system"]
	if v := str(t, ng, "spec.forProvider.launchTemplate.version"); v != "3" {
		t.Errorf("launch template version = %q, want the template's latest number 3 (not $Latest, which EKS never reads back)", v)
	}
	if v, err := ng.GetValue("spec.forProvider.scalingConfig.desiredSize"); err == nil && v != nil {
		t.Error("desiredSize in forProvider: every poll would undo the autoscaler")
	}
	if n, err := ng.GetInteger("spec.initProvider.scalingConfig.desiredSize"); err != nil || n != 2 {
		t.Errorf("initProvider desiredSize = %d, %v; want the spec's (min) 2 at creation", n, err)
	}
}

func TestEBSCSIDriverCanProvision(t *testing.T) {
	all := running(t)
	if got := str(t, all["pod-identity-ebs-csi"], "spec.forProvider.serviceAccount"); got != "ebs-csi-controller-sa" {
		t.Errorf("EBS CSI association for %q, want the controller's service account", got)
	}
	if got := str(t, all["role-ebs-csi-managed-a"], "spec.forProvider.policyArn"); !strings.HasSuffix(got, "/AmazonEBSCSIDriverPolicy") {
		t.Errorf("EBS CSI role policy %q", got)
	}
	if got := str(t, all["addon-aws-ebs-csi-driver"], "spec.forProvider.configurationValues"); !strings.Contains(got, `"defaultStorageClass":{"enabled":true}`) {
		t.Errorf("no default StorageClass: %s", got)
	}
}

type doc struct {
	Statement []struct {
		Effect    string
		Action    any
		Resource  any
		Condition map[string]map[string]any
	}
}

func parse(t *testing.T, s string) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLeastPrivilege(t *testing.T) {
	all := running(t)
	cases := map[string]struct {
		reason string
		check  func(t *testing.T)
	}{
		"NoIAMStar": {"the provider role manages roles under /unsilo/ only, never iam:*", func(t *testing.T) {
			for _, s := range parse(t, str(t, all["role-crossplane"], "spec.forProvider.inlinePolicy[0].policy")).Statement {
				for _, a := range anyList(s.Action) {
					if a == "iam:*" || a == "kms:*" || a == "*" {
						t.Errorf("provider allowed %s", a)
					}
					if a == "iam:PassRole" && s.Condition["StringEquals"]["iam:PassedToService"] == nil {
						t.Error("iam:PassRole without iam:PassedToService")
					}
					if a == "iam:CreateRole" && s.Condition["StringEquals"]["iam:PermissionsBoundary"] == nil {
						t.Error("iam:CreateRole without a required permissions boundary")
					}
				}
			}
		}},
		"Boundary": {"every role the Cluster creates has the boundary, but the provider's, which lives outside the path it may change", func(t *testing.T) {
			if p := str(t, all[providerRole], "spec.forProvider.path"); p == RolePath {
				t.Error("the provider could rewrite its own role")
			}
			for n, cd := range all {
				if cd.GetKind() == "Role" && n != providerRole && !strings.HasSuffix(str(t, cd, "spec.forProvider.permissionsBoundary"), "/platform-tools-boundary") {
					t.Errorf("%s has no permissions boundary", n)
				}
			}
		}},
		"SourceAccount": {"Pod Identity trust names this account and cluster", func(t *testing.T) {
			d := parse(t, str(t, all["role-log-shipper"], "spec.forProvider.assumeRolePolicy"))
			c := d.Statement[0].Condition
			if c["StringEquals"]["aws:SourceAccount"] != "123456789012" || !strings.HasSuffix(c["ArnEquals"]["aws:SourceArn"].(string), ":cluster/platform-tools-eks") {
				t.Errorf("trust conditions %v", c)
			}
		}},
		"CIReadOnly": {"CI diffs, Argo CD deploys: CI gets the view policy", func(t *testing.T) {
			if all["access-ci-policy"] != nil && !strings.HasSuffix(str(t, all["access-ci-policy"], "spec.forProvider.policyArn"), "/AmazonEKSViewPolicy") {
				t.Error("CI is not read-only")
			}
		}},
		"FluentBitNoS3": {"Fluent Bit ships to log-shipper over HTTP and calls no AWS API", func(t *testing.T) {
			if _, err := all["role-fluent-bit"].GetValue("spec.forProvider.inlinePolicy"); err == nil {
				t.Error("fluent-bit has a policy")
			}
		}},
	}
	for name, tc := range cases {
		t.Run(name, tc.check)
		_ = tc.reason
	}
}

func TestUsagesOrderDeletion(t *testing.T) {
	all := running(t)
	for _, want := range []string{"usage-cluster-uses-cluster-role", "usage-nodegroup-system-uses-node-role", "usage-nodegroup-system-uses-launch-template-system", "usage-uses-network"} {
		if _, ok := all[resource.Name(want)]; !ok {
			var have []string
			for n := range all {
				if strings.HasPrefix(string(n), "usage-") {
					have = append(have, string(n))
				}
			}
			slices.Sort(have)
			t.Errorf("no %s (have %v)", want, have)
		}
	}
}

var anyList = composetest.Strings
