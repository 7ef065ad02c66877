package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"sort"
	"strings"

	"github.com/crossplane/function-sdk-go/resource"
)

// Label keys put on every composed resource so that selectors inside one XR
// (with matchControllerRef) and across XRs (network wiring) find them.
const (
	LabelComponent = "platform.unsilo.dev/component" // the composition resource name
	LabelComposite = "platform.unsilo.dev/composite" // <kind-lowercase>.<xr name>
	LabelAccess    = "platform.unsilo.dev/access"    // public | private
	LabelZone      = "platform.unsilo.dev/zone"      // availability zone
)

// Tag keys every taggable AWS resource carries; the required-tags policy
// checks for them. Users may add tags, never override these.
const (
	TagManagedBy   = "managed-by"
	TagComposite   = "unsilo:composite"
	TagTeam        = "unsilo:team"
	TagEnvironment = "unsilo:environment"
)

// Labels returns the labels for a composed resource named name of xr,
// merged with extra.
func Labels(xr *resource.Composite, name string, extra map[string]string) map[string]string {
	l := map[string]string{
		LabelComponent: name,
		LabelComposite: CompositeID(xr),
	}
	maps.Copy(l, extra)
	return l
}

// CompositeID identifies an XR within its namespace, for labels and tags.
func CompositeID(xr *resource.Composite) string {
	return strings.ToLower(xr.Resource.GetKind()) + "." + xr.Resource.GetName()
}

// Tagger makes the AWS tags of one XR's resources: the user's spec.tags,
// then the platform's required tags, which win. Environment comes from
// spec.environment (default dev), team from the XR's namespace. Build it
// once per reconcile; Tags is called for every resource.
type Tagger struct {
	xr   *resource.Composite
	base map[string]string
}

// NewTagger reads the XR once.
func NewTagger(xr *resource.Composite) *Tagger {
	user, _ := xr.Resource.GetStringObject("spec.tags")
	env, err := xr.Resource.GetString("spec.environment")
	if err != nil || env == "" {
		env = "dev"
	}
	base := make(map[string]string, len(user)+4)
	maps.Copy(base, user)
	base[TagManagedBy] = "crossplane"
	base[TagComposite] = xr.Resource.GetNamespace() + "/" + CompositeID(xr)
	base[TagTeam] = xr.Resource.GetNamespace()
	base[TagEnvironment] = env
	return &Tagger{xr: xr, base: base}
}

// Tags returns a fresh tag map for the resource called name.
func (t *Tagger) Tags(name string) map[string]*string {
	out := make(map[string]*string, len(t.base)+1)
	for k, v := range t.base {
		out[k] = ptr(v)
	}
	out["Name"] = ptr(Name(t.xr, name))
	return out
}

// Name is the human-readable AWS name of a composed resource: the XR's
// namespace and name plus the component, so the console shows what owns it.
func Name(xr *resource.Composite, component string) string {
	return xr.Resource.GetNamespace() + "-" + xr.Resource.GetName() + "-" + component
}

// SortedKeys returns m's keys in order, for deterministic output.
func SortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func ptr[T any](v T) *T { return &v }

// Ptr returns a pointer to v; provider structs take pointers everywhere.
func Ptr[T any](v T) *T { return &v }

// ShortName is Name for AWS names with a small length limit (target groups
// and load balancers: 32): it keeps as much of the readable name as fits and
// ends with a hash of the full one, so two XRs never collide.
func ShortName(xr *resource.Composite, component string, limit int) string {
	return ShortNameOf(xr.Resource.GetNamespace(), xr.Resource.GetName(), component, limit)
}

// ShortNameOf is ShortName for the XR namespace/name, for an API that names
// what another XR composes (the EKS cluster of a referenced Cluster).
func ShortNameOf(namespace, name, component string, limit int) string {
	full := namespace + "-" + name + "-" + component
	if len(full) <= limit {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	h := hex.EncodeToString(sum[:])[:8]
	return strings.TrimRight(full[:limit-len(h)-1], "-") + "-" + h
}
