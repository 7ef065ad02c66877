package render_test

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/server"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

// TestConverge: resources that wait for another's ARN appear in the
// converged render but not in the first one.
func TestConverge(t *testing.T) {
	cases := map[string]struct {
		reason string
		file   string
		late   []string
	}{
		"StaticSite": {"the bucket policy needs the distribution's ARN", "../../compositions/staticsite/examples/prod.yaml", []string{"bucket-policy"}},
		"Cluster":    {"the cluster needs its key; node groups and add-ons need the cluster", "../../compositions/cluster/examples/prod.yaml", []string{"cluster", "nodegroup-system", "addon-coredns", "kubeconfig"}},
		"WebPortal":  {"the WAF association needs the ALB's ARN", "../../compositions/webportal/examples/prod.yaml", []string{"waf-alb"}},
		"DataLake":   {"Firehose, the crawlers and the ingest queues need the key's ARN; the trail needs the raw bucket's policy, the bucket notifications the queue's", "../../compositions/datalake/examples/prod.yaml", []string{"firehose", "firehose-role", "crawler-role", "crawler-cloudtrail", "trail", "ingest-queue", "ingest-dlq", "raw-bucket-notification", "alb-bucket-notification"}},
		"KnowledgeBase": {"the index needs its key; rag-api's Lambda takes the index id as an argument", "../../compositions/knowledgebase/examples/prod.yaml",
			[]string{"index", "rag-api-lambda", "rag-api-url", "rag-api-url-permission", "rag-api-url-invoke"}},
	}
	fn := newServer(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs, err := manifest.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			in := render.Input{XR: objs[len(objs)-1].Unstructured, Available: withPlatform(t, objs)}
			first, err := render.Render(context.Background(), fn, in)
			if err != nil {
				t.Fatal(err)
			}
			all, err := render.Converge(context.Background(), fn, in)
			if err != nil {
				t.Fatal(err)
			}
			has := func(out *render.Output, n string) bool {
				for _, cd := range out.Composed {
					if cd.GetAnnotations()[render.AnnotationResourceName] == n {
						return true
					}
				}
				return false
			}
			for _, n := range tc.late {
				if has(first, n) || !has(all, n) {
					t.Errorf("%s: %s should appear only once converged (first: %v, converged: %v)", tc.reason, n, has(first, n), has(all, n))
				}
			}
		})
	}
}

// TestNotReadyUntilComposed: at every reconcile after which more resources
// appear, the function itself says the XR is not done (Composed=False,
// Ready=False), whatever the readiness of what exists: Crossplane would
// otherwise call an XR that composes in stages Ready as soon as every
// resource composed so far is. Once converged, the XR is Ready. Every API
// that defers a resource is covered through its examples.
func TestNotReadyUntilComposed(t *testing.T) {
	cat, ex := examples(t)
	fn := newServer(t)
	for _, file := range ex {
		objs, err := manifest.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		avail := withPlatform(t, objs)
		for _, o := range objs {
			if !cat.IsXR(o.Unstructured) {
				continue
			}
			t.Run(o.Where(), func(t *testing.T) {
				steps, err := render.Steps(context.Background(), fn, render.Input{XR: o.Unstructured, Available: avail})
				if err != nil {
					t.Fatal(err)
				}
				for i, s := range steps {
					composed, msg := xrCondition(s, server.TypeComposed)
					ready, _ := xrCondition(s, "Ready")
					last := i == len(steps)-1
					switch {
					case !last && len(steps[i+1].Composed) > len(s.Composed) && (composed != "False" || ready != "False"):
						t.Errorf("step %d of %d: %d resources, %d next, yet Composed=%s Ready=%s", i, len(steps), len(s.Composed), len(steps[i+1].Composed), composed, ready)
					case last && (composed != "True" || ready != "True"):
						t.Errorf("converged after %d steps, yet Composed=%s (%s) Ready=%s", len(steps), composed, msg, ready)
					}
				}
				// Everything exists and is Ready, but AWS has not reported
				// the ids and ARNs yet (a provider between two polls): what
				// waits for them is not composed, so the XR is not Ready.
				all := steps[len(steps)-1]
				out, err := render.Render(context.Background(), fn, render.Input{XR: o.Unstructured, Available: avail, Observed: readyWithoutIDs(all.Composed)})
				if err != nil {
					t.Fatal(err)
				}
				composed, msg := xrCondition(out, server.TypeComposed)
				ready, _ := xrCondition(out, "Ready")
				if len(out.Composed) < len(all.Composed) && (composed != "False" || ready != "False") {
					t.Errorf("ids unknown: %d of %d resources composed, yet Composed=%s Ready=%s", len(out.Composed), len(all.Composed), composed, ready)
				}
				if composed == "False" && (ready != "False" || msg == "") {
					t.Errorf("ids unknown: Composed=False %q, yet Ready=%s", msg, ready)
				}
			})
		}
	}
}

func xrCondition(out *render.Output, typ string) (status, message string) {
	conds, _, _ := unstructured.NestedSlice(out.XR.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			s, _ := m["status"].(string)
			msg, _ := m["message"].(string)
			return s, msg
		}
	}
	return "absent", ""
}

// readyWithoutIDs observes every resource as existing and Ready with an
// empty status.atProvider.
func readyWithoutIDs(desired []unstructured.Unstructured) []unstructured.Unstructured {
	out := make([]unstructured.Unstructured, 0, len(desired))
	for i := range desired {
		o := *desired[i].DeepCopy()
		if o.GetName() == "" {
			o.SetName(o.GetGenerateName() + o.GetAnnotations()[render.AnnotationResourceName])
		}
		_ = unstructured.SetNestedSlice(o.Object, []any{map[string]any{"type": "Ready", "status": "True", "reason": "Available"}}, "status", "conditions")
		out = append(out, o)
	}
	return out
}
