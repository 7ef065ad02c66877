package verify

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

// checkReadiness: every composed kind has a readiness rule (a Ready
// condition in its CRD, or a kind the function treats as ready once it
// exists), and the converged render, in which every resource is observed
// Ready, leaves the XR Ready. Otherwise the XR would never be Ready.
func checkReadiness(c *Checker, xr manifest.Object, out *render.Output) []Finding {
	var fs []Finding
	for i := range out.Composed {
		cd := &out.Composed[i]
		gvk := cd.GroupVersionKind()
		if compose.IsConditionless(gvk.GroupKind()) {
			continue
		}
		if c.Schemas.Known(cd.GetAPIVersion(), cd.GetKind()) && !c.Schemas.HasProperty(gvk, "status", "conditions") {
			fs = append(fs, composedFinding(xr, cd, "status.conditions", "the kind carries no conditions and the function has no rule for it: the XR would never be Ready", "aws-readiness"))
		}
	}
	conds, _, _ := unstructured.NestedSlice(out.XR.Object, "status", "conditions")
	for _, co := range conds {
		m, _ := co.(map[string]any)
		if m["type"] == "Ready" && m["status"] != "True" {
			fs = append(fs, Finding{Object: xr.ID(), Field: "status.conditions",
				Reason: fmt.Sprintf("not Ready with every composed resource observed Ready: %v", m["message"]), Rule: "aws-readiness"})
		}
	}
	return fs
}
