package server

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/response"
	corev1 "k8s.io/api/core/v1"

	"github.com/unsilo/unsilo/functions/compose"
)

// Condition types the function sets on every XR it composes. Crossplane
// drops a function's Ready, Synced and Healthy (system types), so the
// function speaks through its own; it sets both on every call because
// Crossplane keeps a custom condition until a function sets it again.
const (
	// TypeResourcesSynced is False while a composed resource reports a
	// failure (AWS refused it), with the provider's message.
	TypeResourcesSynced = "ResourcesSynced"
	// TypeComposed is False while the API still defers resources until a
	// dependency is known (compose.Result.Defer); the XR is not Ready then.
	TypeComposed = "Composed"
)

// Reasons of those conditions.
const (
	ReasonAllSynced     = "AllSynced"
	ReasonResourceError = "ComposedResourceError"
	ReasonAllComposed   = "AllComposed"
	ReasonWaiting       = "WaitingForDependencies"
)

// failureReasons are the condition reasons that mean a reconcile of the
// managed resource failed: crossplane-runtime's managed reconciler
// (ReconcileError on Synced) and upjet's (LastAsyncOperation after an
// asynchronous create, update or delete). Creating, Unavailable and the
// like describe a resource on its way, not a failure.
var failureReasons = map[xpv1.ConditionReason]bool{
	xpv1.ReasonReconcileError: true,
	"ApplyFailure":            true,
	"DestroyFailure":          true,
	"AsyncCreateFailure":      true,
	"AsyncUpdateFailure":      true,
	"AsyncDeleteFailure":      true,
}

// waitingPrefix starts the ReconcileError of a managed resource whose
// reference cannot resolve yet: the resource it selects is still being
// created. That is the normal order of a first apply, not a failure; were
// it Degraded, Argo CD would fail the sync wave it is in.
const waitingPrefix = "cannot resolve references"

// Bounds on what a condition message carries: the provider's message can
// be a page of Terraform diagnostics, and kubectl and Argo CD show one line.
const (
	maxPerResource = 512
	maxShown       = 3
)

// failure is one composed resource that reports a failed reconcile.
type failure struct {
	name    resource.Name
	kind    string
	object  string
	message string
}

func (f failure) String() string {
	return fmt.Sprintf("%s (%s %s): %s", f.name, f.kind, f.object, truncate(f.message, maxPerResource))
}

// failures lists the observed composed resources that report a failure,
// by composition resource name.
func failures(observed map[resource.Name]resource.ObservedComposed) []failure {
	var out []failure
	for _, name := range slices.Sorted(maps.Keys(observed)) {
		o := observed[name]
		var conds []xpv1.Condition
		if o.Resource == nil || o.Resource.GetValueInto("status.conditions", &conds) != nil {
			continue // no conditions (a ConfigMap) or none yet
		}
		for _, c := range conds {
			if c.Status != corev1.ConditionFalse || !failureReasons[c.Reason] || strings.HasPrefix(c.Message, waitingPrefix) {
				continue
			}
			out = append(out, failure{name: name, kind: o.Resource.GetKind(), object: o.Resource.GetName(), message: cmp.Or(c.Message, string(c.Reason))})
			break // one condition per resource says enough
		}
	}
	return out
}

// setResourcesSynced sets TypeResourcesSynced on the XR from the observed
// composed resources: False naming each failing resource, its kind and
// the provider's message, True once none fails.
func setResourcesSynced(rsp *fnv1.RunFunctionResponse, observed map[resource.Name]resource.ObservedComposed) {
	fs := failures(observed)
	if len(fs) == 0 {
		response.ConditionTrue(rsp, TypeResourcesSynced, ReasonAllSynced).TargetComposite()
		return
	}
	parts := make([]string, 0, maxShown+1)
	for i, f := range fs {
		if i == maxShown {
			parts = append(parts, fmt.Sprintf("and %d more", len(fs)-maxShown))
			break
		}
		parts = append(parts, f.String())
	}
	response.ConditionFalse(rsp, TypeResourcesSynced, ReasonResourceError).
		WithMessage(fmt.Sprintf("%d composed resource(s) failing: %s", len(fs), strings.Join(parts, "; "))).
		TargetComposite()
}

// setComposed sets TypeComposed and, while the API defers resources, the
// XR's readiness to False: Crossplane otherwise derives it from the
// resources composed so far. An earlier pipeline step's False stays.
func setComposed(rsp *fnv1.RunFunctionResponse, res *compose.Result) {
	msg := res.PendingMessage()
	if msg == "" {
		response.ConditionTrue(rsp, TypeComposed, ReasonAllComposed).TargetComposite()
		return
	}
	rsp.Desired.Composite.Ready = fnv1.Ready_READY_FALSE
	response.ConditionFalse(rsp, TypeComposed, ReasonWaiting).WithMessage(truncate(msg, 4*maxPerResource)).TargetComposite()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary; the provider's messages are not all ASCII.
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
