package argocd

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/e2e/controlplane"
)

// Status is what Argo CD reports of an Application.
type Status struct {
	Sync, Health, HealthMessage, OperationPhase, OperationMessage string
	Conditions                                                    []string
	// Unhealthy lists the managed resources whose health Argo CD
	// persisted as other than Healthy, with its message ("Kind/name:
	// Degraded: ..."), as `kubectl get application -o yaml` shows them.
	Unhealthy []string
}

// StatusOf reads an Application's sync and health as Argo CD wrote them.
func StatusOf(app *unstructured.Unstructured) Status {
	s := Status{}
	s.Sync, _, _ = unstructured.NestedString(app.Object, "status", "sync", "status")
	s.Health, _, _ = unstructured.NestedString(app.Object, "status", "health", "status")
	s.HealthMessage, _, _ = unstructured.NestedString(app.Object, "status", "health", "message")
	s.OperationPhase, _, _ = unstructured.NestedString(app.Object, "status", "operationState", "phase")
	s.OperationMessage, _, _ = unstructured.NestedString(app.Object, "status", "operationState", "message")
	conds, _, _ := unstructured.NestedSlice(app.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		s.Conditions = append(s.Conditions, fmt.Sprintf("%v: %v", m["type"], m["message"]))
	}
	res, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	for _, r := range res {
		m, _ := r.(map[string]any)
		h, _ := m["health"].(map[string]any)
		if h == nil || h["status"] == "Healthy" {
			continue
		}
		s.Unhealthy = append(s.Unhealthy, fmt.Sprintf("%v/%v: %v: %v", m["kind"], m["name"], h["status"], h["message"]))
	}
	return s
}

func (s Status) String() string {
	return fmt.Sprintf("sync=%s health=%s %q operation=%s %q conditions=%q unhealthy=%q", s.Sync, s.Health, s.HealthMessage, s.OperationPhase, s.OperationMessage, s.Conditions, s.Unhealthy)
}

// SyncedAndHealthy is the state every Application must reach.
func SyncedAndHealthy(s Status) bool { return s.Sync == "Synced" && s.Health == "Healthy" }

// Revision is the git commit an Application last synced.
func Revision(app *unstructured.Unstructured) string {
	r, _, _ := unstructured.NestedString(app.Object, "status", "sync", "revision")
	return r
}

// WaitApp polls an Application until done says so, or fails with the last
// status Argo CD reported.
func WaitApp(ctx context.Context, c *controlplane.Client, name string, timeout time.Duration, done func(Status) bool) (*unstructured.Unstructured, error) {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		app, err := c.Get(ctx, "argoproj.io/v1alpha1", "Application", Namespace, name)
		if err == nil {
			s := StatusOf(app)
			if done(s) {
				return app, nil
			}
			last = s.String()
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("waited %s for Application %s: %s", timeout, name, last)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for Application %s: %w (last: %s)", name, ctx.Err(), last)
		case <-time.After(500 * time.Millisecond): // polling Argo CD's status writes
		}
	}
}
