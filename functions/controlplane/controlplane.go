// Package controlplane is what every API that creates IAM roles needs of
// the platform's control plane: the Cluster whose Crossplane provider
// creates them. That provider may create roles only under RolePath and
// only with the Cluster's permissions boundary (functions/cluster), so a
// role composed without them is refused by AWS.
package controlplane

import (
	"regexp"

	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/compose"
)

// RolePath is the IAM path of every role, instance profile and policy the
// platform creates (the provider's own role excepted, ProviderPath).
const RolePath = "/unsilo/"

// ProviderPath is where the Crossplane provider's own role lives: outside
// RolePath, so the provider can never change or pass its own role.
const ProviderPath = "/unsilo-provider/"

// Default is the control plane an XR names when its spec names none: the
// platform's Cluster (compositions/cluster/examples/prod.yaml).
var Default = Ref{Namespace: "platform", Name: "tools"}

var boundaryARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):policy/unsilo/([^/]+)$`)

// Ref is an XR's spec.controlPlaneRef.
type Ref struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// BoundaryARN, when set, says the Cluster XR lives on another control
	// plane (the environment's management cluster, clusters/<env>/cluster)
	// and so cannot be fetched here: it is that Cluster's permissions
	// boundary, which must carry the Cluster's name. (An ARN, not a bare
	// account id: a kustomize replacement writes a bare id as a number.)
	BoundaryARN string `json:"boundaryArn,omitempty"`
}

// ControlPlane is what roles need to know of it.
type ControlPlane struct {
	AccountID string
	// BoundaryARN is the permissions boundary every platform role carries.
	BoundaryARN string
}

// BoundaryName is the IAM policy name of a Cluster's permissions boundary.
func BoundaryName(namespace, name string) string {
	return compose.ShortNameOf(namespace, name, "boundary", 128)
}

// BoundaryARN is the ARN of the boundary of Cluster namespace/name.
func BoundaryARN(account, namespace, name string) string {
	return "arn:aws:iam::" + account + ":policy" + RolePath + BoundaryName(namespace, name)
}

// Resolve asks Crossplane for the control plane's Cluster XR and returns
// its account and boundary once fetched (ok false before: compose nothing
// and let Crossplane call again).
func Resolve(out *compose.Result, req *compose.Request, ref Ref) (ControlPlane, bool, error) {
	if ref.Name == "" {
		ref.Name = Default.Name
	}
	if ref.Namespace == "" {
		ref.Namespace = Default.Namespace
	}
	if ref.BoundaryARN != "" {
		m := boundaryARN.FindStringSubmatch(ref.BoundaryARN)
		if m == nil || m[2] != BoundaryName(ref.Namespace, ref.Name) {
			return ControlPlane{}, false, compose.Invalid("spec.controlPlaneRef.boundaryArn", ref.BoundaryARN, "want %s with this Cluster's account: the permissions boundary of Cluster %s/%s", BoundaryARN("<account>", ref.Namespace, ref.Name), ref.Namespace, ref.Name)
		}
		return ControlPlane{AccountID: m[1], BoundaryARN: ref.BoundaryARN}, true, nil
	}
	cl, ok, err := out.Resolve(req, compose.Reference{Key: "control-plane", Kind: "Cluster", Namespace: ref.Namespace, Name: ref.Name, Field: "spec.controlPlaneRef.name"})
	if err != nil || !ok {
		return ControlPlane{}, ok, err
	}
	acct, _, _ := unstructured.NestedString(cl.Object, "spec", "accountId")
	if acct == "" {
		return ControlPlane{}, false, compose.Invalid("spec.controlPlaneRef.name", ref.Name, "Cluster %s/%s has no spec.accountId", ref.Namespace, ref.Name)
	}
	return ControlPlane{AccountID: acct, BoundaryARN: BoundaryARN(acct, ref.Namespace, ref.Name)}, true, nil
}

// Within puts a role the platform creates under RolePath and within the
// boundary, as the provider's policy demands.
func (cp ControlPlane) Within(p *iam.RoleParameters) {
	p.Path = compose.Ptr(RolePath)
	p.PermissionsBoundary = compose.Ptr(cp.BoundaryARN)
}

// Apply puts every role and instance profile of out under RolePath and
// every role within the boundary: call it once the API has composed all.
func (cp ControlPlane) Apply(out *compose.Result) {
	for _, o := range out.Resources {
		switch r := o.(type) {
		case *iam.Role:
			cp.Within(&r.Spec.ForProvider)
		case *iam.InstanceProfile:
			r.Spec.ForProvider.Path = compose.Ptr(RolePath)
		}
	}
}
