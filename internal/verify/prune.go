package verify

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/argo"
	"github.com/unsilo/unsilo/internal/manifest"
)

const finalizer = "resources-finalizer.argocd.argoproj.io"

// statefulCharts are remote charts whose CRDs hold data: deleting their
// Application with Argo CD's resources finalizer deletes the CRDs, and the
// API server then deletes every object of those kinds.
var statefulCharts = map[string]string{
	"crossplane":     "Crossplane's CRDs hold every XR and managed resource",
	"cloudnative-pg": "CloudNativePG's Cluster CRD holds every Postgres cluster",
	"argo-cd":        "Argo CD's CRDs hold every Application",
}

// stateful says why deleting u loses data or AWS resources, or "".
func (c *Checker) stateful(u *unstructured.Unstructured) string {
	gk := u.GroupVersionKind().GroupKind()
	switch {
	case c.Catalog != nil && c.Catalog.IsXR(u):
		return "deleting an XR deletes the AWS resources it composed"
	case gk.Group == "apiextensions.crossplane.io" && (gk.Kind == "CompositeResourceDefinition" || gk.Kind == "Composition"):
		return "deleting an XRD deletes every XR of its kind, and their AWS resources"
	case gk.Group == "pkg.crossplane.io" && (gk.Kind == "Provider" || gk.Kind == "Function" || gk.Kind == "Configuration"):
		return "uninstalling a package deletes its CRDs, or stops every XR that needs it"
	case gk.Group == "postgresql.cnpg.io" && gk.Kind == "Cluster":
		return "deleting a Postgres cluster deletes its volumes"
	case gk.Group == "" && gk.Kind == "PersistentVolumeClaim":
		return "deleting a claim deletes its volume"
	}
	return ""
}

func syncOptions(u *unstructured.Unstructured) map[string]bool {
	out := map[string]bool{}
	for _, o := range strings.Split(u.GetAnnotations()["argocd.argoproj.io/sync-options"], ",") {
		out[strings.TrimSpace(o)] = true
	}
	return out
}

func protected(u *unstructured.Unstructured) bool {
	o := syncOptions(u)
	return o["Prune=false"] && o["Delete=false"]
}

// checkDeletion finds what a git change or an Application's deletion could
// delete that holds data or AWS resources: such objects must carry
// Prune=false,Delete=false (Argo CD then never deletes them, however they
// leave git), their namespaces too, and the Applications holding them or
// installing their CRDs must not cascade-delete (no resources finalizer).
// Deleting one is then a platform admin's explicit act after review.
func (c *Checker) checkDeletion(r *Report, e *environment) {
	holds := map[*argo.App]string{}
	nsHolds := map[string]string{}
	for _, s := range e.synced() {
		why := c.stateful(s.u)
		if why == "" {
			continue
		}
		holds[s.app] = why
		if ns := s.u.GetNamespace(); ns != "" {
			nsHolds[ns] = manifest.ID(s.u)
		}
		if !protected(s.u) {
			r.add(Finding{File: e.where(s.app, s.u), Line: lineOf(s.app, s.u), Object: manifest.ID(s.u), Field: "metadata.annotations[argocd.argoproj.io/sync-options]", Rule: "deletion-protection",
				Reason: fmt.Sprintf("%s, and nothing stops Argo CD (Application %s) from deleting it when it leaves git; add Prune=false,Delete=false", why, s.app.Name())})
		}
	}
	for _, s := range e.synced() {
		if s.u.GetKind() == "Namespace" && s.u.GetAPIVersion() == "v1" && nsHolds[s.u.GetName()] != "" && !protected(s.u) {
			r.add(Finding{File: e.where(s.app, s.u), Line: lineOf(s.app, s.u), Object: manifest.ID(s.u), Field: "metadata.annotations[argocd.argoproj.io/sync-options]", Rule: "deletion-protection",
				Reason: fmt.Sprintf("holds %s; deleting the namespace deletes it; add Prune=false,Delete=false", nsHolds[s.u.GetName()])})
		}
	}
	for _, a := range e.apps {
		why := holds[a]
		if !a.Repo && statefulCharts[a.Chart] != "" {
			why = statefulCharts[a.Chart]
		}
		if why == "" {
			continue
		}
		for _, f := range a.Object.GetFinalizers() {
			if f == finalizer {
				r.add(Finding{File: e.appWhere(a), Object: manifest.ID(a.Object), Field: "metadata.finalizers", Rule: "deletion-protection",
					Reason: fmt.Sprintf("%s cascades: deleting the Application deletes what it synced (%s); remove the finalizer so a deletion orphans instead", finalizer, why)})
			}
		}
	}
	for _, s := range e.synced() {
		if s.u.GetKind() != "ApplicationSet" {
			continue
		}
		if keep, _, _ := unstructured.NestedBool(s.u.Object, "spec", "syncPolicy", "preserveResourcesOnDeletion"); !keep {
			r.add(Finding{File: e.where(s.app, s.u), Line: lineOf(s.app, s.u), Object: manifest.ID(s.u), Field: "spec.syncPolicy.preserveResourcesOnDeletion", Rule: "deletion-protection",
				Reason: "renaming or removing a folder deletes its generated Application, and with it everything that Application synced; set it to true"})
		}
	}
}
