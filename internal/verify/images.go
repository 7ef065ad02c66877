package verify

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/artifacts"
	"github.com/unsilo/unsilo/internal/manifest"
)

// immutable is a reference that cannot silently change: a digest, or a
// version tag (not latest, not a bare major/minor).
var immutable = regexp.MustCompile(`(@sha256:[0-9a-f]{64}$)|(:v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?(@sha256:[0-9a-f]{64})?$)`)

// checkImages checks every image and package the environment runs: each
// is an immutable reference, the platform's own come from
// platform/artifacts, and at a pinned release they are the tags of that
// commit's own code (so a promotion promotes exactly that code).
func (c *Checker) checkImages(r *Report, e *environment) {
	var registry string
	var arts map[string]string
	if e.release != nil && e.release.Dir != "" {
		arts, _ = artifacts.Read(filepath.Join(e.release.Dir, artifacts.File))
		registry = arts["registry"]
	}
	check := func(where, id, field, ref string) {
		switch {
		case ref == "" || strings.Contains(ref, "set-from-"):
			r.add(Finding{File: where, Object: id, Field: field, Rule: "image-ref", Reason: "no reference: " + artifacts.File + " did not fill it in (is platform/artifacts a component of this kustomization?)"})
		case !immutable.MatchString(ref):
			r.add(Finding{File: where, Object: id, Field: field, Rule: "image-ref", Reason: fmt.Sprintf("%s can change under the same name (a mutable tag); pin a version tag or a digest", ref)})
		case registry != "" && strings.Contains(ref, "/unsilo/") && !strings.HasPrefix(ref, registry+"/"):
			r.add(Finding{File: where, Object: id, Field: field, Rule: "image-ref", Reason: fmt.Sprintf("%s is one of this repository's images but not from %s (%s)", ref, registry, artifacts.File)})
		}
	}
	for _, s := range e.synced() {
		u, id, where := s.u, manifest.ID(s.u), e.where(s.app, s.u)
		if u.GroupVersionKind().Group == "pkg.crossplane.io" {
			if p, ok, _ := unstructured.NestedString(u.Object, "spec", "package"); ok {
				check(where, id, "spec.package", p)
			}
		}
		for _, img := range podImages(u) {
			check(where, id, img.field, img.ref)
		}
	}
}

type imageUse struct{ field, ref string }

func podImages(u *unstructured.Unstructured) []imageUse {
	var spec map[string]any
	prefix := "spec.template.spec"
	switch u.GetKind() {
	case "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet":
		spec, _, _ = unstructured.NestedMap(u.Object, "spec", "template", "spec")
	case "CronJob":
		spec, _, _ = unstructured.NestedMap(u.Object, "spec", "jobTemplate", "spec", "template", "spec")
		prefix = "spec.jobTemplate.spec.template.spec"
	}
	var out []imageUse
	for _, list := range []string{"initContainers", "containers"} {
		cs, _ := spec[list].([]any)
		for i, c := range cs {
			if img, _ := c.(map[string]any)["image"].(string); img != "" || c != nil {
				out = append(out, imageUse{fmt.Sprintf("%s.%s[%d].image", prefix, list, i), img})
			}
		}
	}
	return out
}

// checkReleaseArtifacts: at a pinned release, artifacts.yaml must name the
// tags of the code at that commit; otherwise the environment would run
// other code than the commit it claims to run.
func (c *Checker) checkReleaseArtifacts(ctx context.Context, r *Report, e *environment) error {
	if e.release == nil || e.release.Dir == "" || e.release.Revision == "main" || c.NoArtifacts {
		return nil
	}
	file := e.at(e.release, artifacts.File)
	arts, err := artifacts.Read(filepath.Join(e.release.Dir, artifacts.File))
	if err != nil {
		r.add(Finding{File: file, Object: "ConfigMap/artifacts", Rule: "image-ref", Reason: fmt.Sprintf("the release has no released references: %v", err)})
		return nil
	}
	tags, err := artifacts.Tags(ctx, e.release.Dir)
	if err != nil {
		return err
	}
	for _, p := range artifacts.Programs {
		want := tags[p.Name]
		got := arts[p.Key+"Tag"]
		if p.Key == "function" {
			got = arts["functionPackage"]
			want = arts["registry"] + "/" + p.Name + ":" + want
		}
		if got != want {
			r.add(Finding{File: file, Object: "ConfigMap/artifacts", Field: "data." + p.Key, Rule: "image-ref",
				Reason: fmt.Sprintf("%s names %q, but the code at the release builds %q: the release would run other code than its own; run `unsilo artifacts --write` on main, merge, then pin that commit", p.Name, got, want)})
		}
	}
	return nil
}
