package verify

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

// awsCheck is one class of what AWS would refuse or never settle, judged on
// an XR's converged render. Each lives in its own file with its own test.
type awsCheck func(c *Checker, xr manifest.Object, out *render.Output) []Finding

// awsChecks run on every converged XR (verifyObjects calls checkAWS).
var awsChecks = []awsCheck{checkRegions, checkSettling, checkReadiness, checkDeletion, checkSupport}

func (c *Checker) checkAWS(r *Report, xr manifest.Object, out *render.Output) {
	for _, check := range awsChecks {
		for _, f := range check(c, xr, out) {
			f.File, f.Line = xr.File, xr.Line
			r.add(f)
		}
	}
}

// composedFinding names a composed resource the way the other checks do.
func composedFinding(xr manifest.Object, cd *unstructured.Unstructured, field, reason, rule string) Finding {
	return Finding{Object: xr.ID() + " -> " + cd.GetKind() + " " + cd.GetAnnotations()[render.AnnotationResourceName], Field: field, Reason: reason, Rule: rule}
}

// checkAcross runs the checks that need every XR's converged render at
// once: a Network's flow logs land in a DataLake's bucket, a DataLake's
// roles are created by the control plane Cluster's provider.
func (c *Checker) checkAcross(r *Report) error {
	account, err := platformAccount(c.Root)
	if err != nil {
		return err
	}
	for _, f := range checkLogDestinations(r.converged, account) {
		r.add(f)
	}
	for _, f := range checkRoles(r.converged) {
		r.add(f)
	}
	contracts, err := loadContracts(c.Root)
	if err != nil {
		return err
	}
	for _, f := range checkContracts(r.converged, contracts, account) {
		r.add(f)
	}
	return nil
}
