package plan

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/render"
)

// Snapshot is everything a tree's XRs compose, keyed for comparison across
// git revisions (`unsilo plan --json`, read back by `plan --diff`).
type Snapshot struct {
	XRs []XRSnapshot `json:"xrs"`
}

// XRSnapshot is one XR and its converged resources.
type XRSnapshot struct {
	ID       string   `json:"id"`    // Kind/namespace/name
	Group    string   `json:"group"` // the team folder or example file it belongs to
	Where    string   `json:"where"`
	Error    string   `json:"error,omitempty"`
	Findings []string `json:"findings,omitempty"`
	// Protected: Argo CD never deletes the XR (Prune=false,Delete=false);
	// leaving git orphans it, its AWS resources stay.
	Protected bool                `json:"protected,omitempty"`
	Resources map[string]Resource `json:"resources"` // by composition resource name
}

// Resource is one composed resource.
type Resource struct {
	Kind         string         `json:"kind"`
	APIVersion   string         `json:"apiVersion"`
	ExternalName string         `json:"externalName,omitempty"`
	ForProvider  map[string]any `json:"forProvider,omitempty"`
}

// SnapshotOf records a converged render.
func SnapshotOf(id, group, where string, out *render.Output) XRSnapshot {
	s := XRSnapshot{ID: id, Group: group, Where: where, Resources: map[string]Resource{}}
	for i := range out.Composed {
		cd := &out.Composed[i]
		fp, _, _ := unstructured.NestedMap(cd.Object, "spec", "forProvider")
		if fp == nil {
			fp, _, _ = unstructured.NestedMap(cd.Object, "spec")
		}
		s.Resources[cd.GetAnnotations()[render.AnnotationResourceName]] = Resource{
			Kind: cd.GetKind(), APIVersion: cd.GetAPIVersion(),
			ExternalName: cd.GetAnnotations()["crossplane.io/external-name"], ForProvider: fp,
		}
	}
	return s
}
