package verify

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

// checkDeletion: deleting an XR must not destroy data out of order.
//   - a KMS key is the 'of' of a Usage (something encrypted with it must go
//     first) or is orphaned: a scheduled key deletion under buckets that
//     stay makes every object unreadable 30 days later;
//   - a bucket is never forceDestroy (S3 refuses to delete a non-empty
//     bucket, which is the protection);
//   - a prod database has deletion protection and a final snapshot;
//   - an XR that lives in a Network (spec.networkRef) holds a Usage of it.
func checkDeletion(_ *Checker, xr manifest.Object, out *render.Output) []Finding {
	var fs []Finding
	used := map[string]bool{}
	usesXR := map[string]bool{}
	for i := range out.Composed {
		u := &out.Composed[i]
		if u.GetKind() != "Usage" {
			continue
		}
		if c, ok, _ := unstructured.NestedString(u.Object, "spec", "of", "resourceSelector", "matchLabels", "platform.unsilo.dev/component"); ok {
			used[c] = true
		}
		if k, ok, _ := unstructured.NestedString(u.Object, "spec", "of", "kind"); ok {
			usesXR[k] = true
		}
	}
	prod := xrEnvironment(xr) == "prod"
	for i := range out.Composed {
		cd := &out.Composed[i]
		name := cd.GetAnnotations()[render.AnnotationResourceName]
		orphan := cd.Object["spec"] != nil && nested(cd, "spec", "deletionPolicy") == "Orphan"
		switch cd.GetKind() {
		case "Key":
			if !used[name] && !orphan {
				fs = append(fs, composedFinding(xr, cd, "spec", "nothing encrypted with this key holds a Usage of it: deleting the XR schedules the key's deletion while data encrypted with it may stay", "aws-deletion"))
			}
		case "Bucket":
			if v, _, _ := unstructured.NestedBool(cd.Object, "spec", "forProvider", "forceDestroy"); v {
				fs = append(fs, composedFinding(xr, cd, "spec.forProvider.forceDestroy", "deleting the XR would delete every object", "aws-deletion"))
			}
		case "Instance":
			if prod {
				dp, _, _ := unstructured.NestedBool(cd.Object, "spec", "forProvider", "deletionProtection")
				skip, _, _ := unstructured.NestedBool(cd.Object, "spec", "forProvider", "skipFinalSnapshot")
				if !dp || skip {
					fs = append(fs, composedFinding(xr, cd, "spec.forProvider.deletionProtection", "a prod database needs deletion protection and a final snapshot", "aws-deletion"))
				}
			}
		}
	}
	if n, _, _ := unstructured.NestedString(xr.Object, "spec", "networkRef", "name"); n != "" && !usesXR["Network"] {
		fs = append(fs, Finding{Object: xr.ID(), Field: "spec.networkRef", Reason: "no Usage of Network " + n + ": deleting both at once removes the subnets under the XR's resources first", Rule: "aws-deletion"})
	}
	return fs
}

func nested(u *unstructured.Unstructured, path ...string) string {
	s, _, _ := unstructured.NestedString(u.Object, path...)
	return s
}

func xrEnvironment(xr manifest.Object) string {
	e, _, _ := unstructured.NestedString(xr.Object, "spec", "environment")
	if e == "" {
		return "dev"
	}
	return e
}
