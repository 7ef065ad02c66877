// Package fakeaws is a simulated AWS at the provider boundary, for the e2e
// test only (nothing imports it outside e2e/): controllers built on
// crossplane-runtime's managed reconciler over provider-aws v2.5.0's own Go
// types, so the providers' generated reference resolvers, finalizers,
// external-name handling and Ready/Synced conditions run as in the real
// providers, while the external client keeps resources in memory. It fills
// status.atProvider with ids, ARNs and endpoints shaped as AWS returns them
// and can be told to fail a resource with a real AWS error code or make it
// slow.
package fakeaws

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Options tune the simulation.
type Options struct {
	// Poll is how often a ready resource is observed again (the real
	// providers' --poll, 10m by default; short here so faults show soon).
	Poll time.Duration
	// Latency is how long a resource takes to become available after
	// Create when no Slow fault says otherwise.
	Latency time.Duration
}

// AWS is the running simulation.
type AWS struct {
	opts   Options
	faults faults
	log    *slog.Logger

	mu     sync.Mutex
	store  map[string]*record // kind/region/id
	ops    []Op
	mgr    ctrl.Manager
	served map[schema.GroupVersionKind]bool
}

// Op is one call the simulated AWS answered, in order: what the e2e
// checks deletion order against.
type Op struct {
	Verb, Kind, Name, ID string
	Composite, Resource  string
	At                   time.Time
}

type record struct {
	kind, region, id string
	computed         map[string]any
	params           map[string]any
	readyAt          time.Time
}

// New makes an empty AWS account.
func New(log *slog.Logger, o Options) *AWS {
	if o.Poll == 0 {
		o.Poll = 5 * time.Second
	}
	return &AWS{opts: o, log: log, store: map[string]*record{}, served: map[schema.GroupVersionKind]bool{}, faults: faults{m: map[Match]Fault{}}}
}

// Inject makes matching resources fail or be slow until Lift.
func (a *AWS) Inject(m Match, f Fault) { a.faults.set(m, f) }

// Lift removes a fault.
func (a *AWS) Lift(m Match) { a.faults.clear(m) }

// Ops returns the calls answered so far.
func (a *AWS) Ops() []Op {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Op(nil), a.ops...)
}

// Count is how many resources of a kind exist.
func (a *AWS) Count(kind string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, r := range a.store {
		if r.kind == kind {
			n++
		}
	}
	return n
}

// Start runs the simulated provider's controller manager against the API
// server at cfg until ctx ends; Serve adds kinds to it. scheme must hold
// the provider types (the functions' AddToScheme registers them).
func (a *AWS) Start(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme) error {
	ctrl.SetLogger(logr.FromSlogHandler(a.log.Handler()))
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: server.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
	if err != nil {
		return fmt.Errorf("cannot make the simulated provider's manager: %w", err)
	}
	a.mgr = mgr
	errc := make(chan error, 1)
	go func() { errc <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return fmt.Errorf("the simulated provider's caches did not sync: %v", <-errc)
	}
	return nil
}

// Serve starts one managed reconciler per kind (their CRDs must serve),
// as a provider's controllers start for the CRDs its package installed.
// Kinds already served are skipped.
func (a *AWS) Serve(gvks ...schema.GroupVersionKind) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	mgr := a.mgr
	log := logging.NewLogrLogger(logr.FromSlogHandler(a.log.Handler()))
	skip := true // controller names are unique per process; tests may start several managers
	sort.Slice(gvks, func(i, j int) bool { return gvks[i].String() < gvks[j].String() })
	for _, gvk := range gvks {
		if a.served[gvk] {
			continue
		}
		name := managed.ControllerName(gvk.GroupKind().String())
		obj, err := mgr.GetScheme().New(gvk)
		if err != nil {
			return fmt.Errorf("%s is not a provider-aws v2.5.0 type in the scheme: %w", gvk, err)
		}
		mg, ok := obj.(resource.Managed)
		if !ok {
			return fmt.Errorf("%s is not a managed resource", gvk)
		}
		r := managed.NewReconciler(mgr, resource.ManagedKind(gvk),
			managed.WithExternalConnector(&connector{aws: a, gvk: gvk, kube: mgr.GetClient()}),
			// As upjet's providers: the external name comes from AWS
			// (Create), not from metadata.name.
			managed.WithInitializers(),
			managed.WithPollInterval(a.opts.Poll),
			managed.WithManagementPolicies(),
			managed.WithLogger(log.WithValues("controller", name)),
			managed.WithRecorder(event.NewAPIRecorder(mgr.GetEventRecorderFor(name))), //nolint:staticcheck // as the providers do
		)
		err = ctrl.NewControllerManagedBy(mgr).Named(name).
			For(mg).
			// The providers' rate limiter (1 s to 60 s per resource): a
			// reference not yet resolvable is retried within a minute.
			WithOptions(crcontroller.Options{MaxConcurrentReconciles: 2, SkipNameValidation: &skip, RateLimiter: ratelimiter.NewController()}).
			Complete(r)
		if err != nil {
			return fmt.Errorf("cannot start the simulated controller for %s: %w", gvk, err)
		}
		a.served[gvk] = true
	}
	return nil
}

// Served is the kinds the simulation has controllers for.
func (a *AWS) Served() []schema.GroupVersionKind {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []schema.GroupVersionKind
	for g := range a.served {
		out = append(out, g)
	}
	return out
}
