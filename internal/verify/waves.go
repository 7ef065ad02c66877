package verify

import (
	"fmt"
	"path/filepath"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/unsilo/unsilo/internal/team"
)

// wave is an object's Argo CD sync wave.
func wave(u *unstructured.Unstructured) int {
	w, err := strconv.Atoi(u.GetAnnotations()["argocd.argoproj.io/sync-wave"])
	if err != nil {
		return 0
	}
	return w
}

// defines returns the kind a CRD or a Crossplane XRD makes servable.
func defines(u *unstructured.Unstructured) (schema.GroupKind, bool) {
	switch u.GetKind() {
	case "CustomResourceDefinition", "CompositeResourceDefinition":
		g, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		k, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		return schema.GroupKind{Group: g, Kind: k}, g != "" && k != ""
	}
	return schema.GroupKind{}, false
}

// placed is an object with the Application (and its wave) that syncs it.
type placed struct {
	app     string
	appWave int
	wave    int
}

// checkWaves follows a cluster's Applications into the folders they sync
// and reports any object that a sync would apply before the CRD or XRD
// that defines its kind: Argo CD would fail that wave, every time.
func (c *Checker) checkWaves(r *Report, cluster string, objs []*unstructured.Unstructured) {
	defs := map[schema.GroupKind]placed{}
	type use struct {
		placed
		gk schema.GroupKind
		id string
	}
	var uses []use
	for _, app := range objs {
		if app.GetKind() != "Application" || app.GetName() == "root" {
			continue
		}
		repo, _, _ := unstructured.NestedString(app.Object, "spec", "source", "repoURL")
		path, _, _ := unstructured.NestedString(app.Object, "spec", "source", "path")
		if repo != team.RepoURL || path == "" {
			continue
		}
		var inner []*unstructured.Unstructured
		var err error
		if h, ok := localChart(c.Root, app); ok {
			inner, err = RenderChart(h)
		} else {
			inner, err = Build(filepath.Join(c.Root, path))
		}
		if err != nil {
			continue // reported as a kustomize or helm finding
		}
		for _, u := range inner {
			p := placed{app: app.GetName(), appWave: wave(app), wave: wave(u)}
			if gk, ok := defines(u); ok {
				defs[gk] = p
			}
			uses = append(uses, use{placed: p, gk: u.GroupVersionKind().GroupKind(), id: objectID(u)})
		}
	}
	for _, u := range uses {
		d, ok := defs[u.gk]
		if !ok {
			continue
		}
		early := u.appWave < d.appWave || (u.app == d.app && u.wave < d.wave)
		if !early {
			continue
		}
		r.add(Finding{File: cluster, Object: u.id, Field: "metadata.annotations[argocd.argoproj.io/sync-wave]", Rule: "sync-wave-order",
			Reason: fmt.Sprintf("Application %s (wave %d, object wave %d) applies it before Application %s (wave %d, object wave %d) defines %s; raise its wave",
				u.app, u.appWave, u.wave, d.app, d.appWave, d.wave, u.gk)})
	}
}
