package verify

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

// settleRule is a forProvider field the provider would re-apply on every
// poll because AWS normalises it or another actor owns it.
type settleRule struct {
	kind  string // composed kind (group checked by prefix)
	group string
	path  []string
	bad   func(v any, cd *unstructured.Unstructured, all []unstructured.Unstructured) bool
	fact  string
}

var settleRules = []settleRule{
	{kind: "NodeGroup", group: "eks.", path: []string{"launchTemplate", "version"}, bad: symbolicVersion,
		fact: "EKS stores and reads back the launch template's version number; $Latest/$Default never match, and a new template version never rolls the nodes: pin the template's latestVersion"},
	{kind: "AutoscalingGroup", group: "autoscaling.", path: []string{"launchTemplate", "version"}, bad: symbolicVersion,
		fact: "with $Latest a new template version is no change the provider sees, so the instance refresh never starts: pin the template's latestVersion"},
	{kind: "AutoscalingGroup", group: "autoscaling.", path: []string{"desiredCapacity"}, bad: scaledByPolicy,
		fact: "a scaling policy owns the desired capacity; in forProvider every poll undoes its scaling: set it in initProvider (applied at creation only)"},
	{kind: "NodeGroup", group: "eks.", path: []string{"scalingConfig", "desiredSize"}, bad: present,
		fact: "the cluster autoscaler owns a node group's desired size; in forProvider every poll undoes it: set it in initProvider"},
	{kind: "Trail", group: "cloudtrail.", path: []string{"kmsKeyIdSelector"}, bad: present,
		fact: "the provider's resolver for kmsKeyId extracts the key's external name (its id) while CloudTrail reads back the key ARN: the trail never settles; give it the key ARN"},
}

func symbolicVersion(v any, _ *unstructured.Unstructured, _ []unstructured.Unstructured) bool {
	return v == "$Latest" || v == "$Default"
}

func present(v any, _ *unstructured.Unstructured, _ []unstructured.Unstructured) bool {
	return v != nil
}

func scaledByPolicy(v any, _ *unstructured.Unstructured, all []unstructured.Unstructured) bool {
	if v == nil {
		return false
	}
	for i := range all {
		if all[i].GetKind() == "Policy" && len(all[i].GetAPIVersion()) > 12 && all[i].GetAPIVersion()[:12] == "autoscaling." {
			return true
		}
	}
	return false
}

// checkSettling refuses the fields of settleRules in forProvider.
func checkSettling(_ *Checker, xr manifest.Object, out *render.Output) []Finding {
	var fs []Finding
	for i := range out.Composed {
		cd := &out.Composed[i]
		for _, r := range settleRules {
			if cd.GetKind() != r.kind || len(cd.GetAPIVersion()) < len(r.group) || cd.GetAPIVersion()[:len(r.group)] != r.group {
				continue
			}
			v, found, _ := unstructured.NestedFieldNoCopy(cd.Object, append([]string{"spec", "forProvider"}, r.path...)...)
			if found && r.bad(v, cd, out.Composed) {
				fs = append(fs, composedFinding(xr, cd, "spec.forProvider."+join(r.path), r.fact, "aws-settling"))
			}
		}
	}
	return fs
}

func join(p []string) string {
	s := ""
	for i, e := range p {
		if i > 0 {
			s += "."
		}
		s += e
	}
	return s
}
