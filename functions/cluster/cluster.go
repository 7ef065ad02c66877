package cluster

import (
	"context"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"
	eks "github.com/upbound/provider-aws/v2/apis/namespaced/eks/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"
	kms "github.com/upbound/provider-aws/v2/apis/namespaced/kms/v1beta1"
	s3 "github.com/upbound/provider-aws/v2/apis/namespaced/s3/v1beta1"
	sqs "github.com/upbound/provider-aws/v2/apis/namespaced/sqs/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/network"
)

// API composes Cluster XRs.
type API struct{}

// Kind implements compose.API.
func (API) Kind() string { return "Cluster" }

// AddToScheme implements compose.API.
func (API) AddToScheme(s *runtime.Scheme) error {
	return compose.AddToScheme(s, ec2.AddToScheme, eks.AddToScheme, iam.AddToScheme, kms.AddToScheme, corev1.AddToScheme, s3.AddToScheme, sqs.AddToScheme)
}

// logTypes are every control-plane log EKS offers; all are always on.
var logTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// addons are installed on every cluster; Pod Identity replaces IRSA.
var addons = []string{"vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"}

type builder struct {
	req    *compose.Request
	spec   *Spec
	region string
	tag    *compose.Tagger
	out    *compose.Result
}

// Compose implements compose.API.
func (API) Compose(_ context.Context, req *compose.Request) (*compose.Result, error) {
	spec, err := readSpec(req.XR)
	if err != nil {
		return nil, err
	}
	out := compose.NewResult()
	net, ok, err := network.Resolve(out, req, "network", "", spec.NetworkRef.Name, "spec.networkRef.name")
	if err != nil || !ok {
		return out, err
	}
	region := net.Region
	b := &builder{req: req, spec: spec, region: region, tag: compose.NewTagger(req.XR), out: out}
	b.boundary()
	b.secretsKey()
	b.controlPlane()
	b.nodes()
	b.addons()
	b.access()
	b.workloads()
	b.alertQueue()
	b.externalSecrets()
	b.usages()
	if err := b.kubeconfig(); err != nil {
		return nil, err
	}
	b.status()
	b.alertBridgeStatus()
	return out, nil
}

func (b *builder) meta(name string) metav1.ObjectMeta {
	return compose.Meta(b.req.XR, name, nil)
}

// namedMeta is meta with the AWS name set (crossplane.io/external-name).
func (b *builder) namedMeta(name, external string) metav1.ObjectMeta {
	m := b.meta(name)
	m.Annotations = map[string]string{"crossplane.io/external-name": external}
	return m
}

func (b *builder) regionPtr() *string { return compose.Ptr(b.region) }

func (b *builder) privateSubnets() *xpv1.NamespacedSelector {
	return &xpv1.NamespacedSelector{MatchLabels: map[string]string{
		"platform.unsilo.dev/network": b.spec.NetworkRef.Name, compose.LabelAccess: "private",
	}}
}

// clusterName is the EKS name: stable, readable, unique per namespace.
func (b *builder) clusterName() string {
	return EKSName(b.req.XR.Resource.GetNamespace(), b.req.XR.Resource.GetName())
}

// EKSName is the EKS cluster name of the Cluster XR namespace/name, for
// APIs that bind to it (a KnowledgeBase's Pod Identity association).
func EKSName(namespace, name string) string { return compose.ShortNameOf(namespace, name, "eks", 100) }

func (b *builder) secretsKey() {
	b.out.Add("secrets-key", &kms.Key{
		ObjectMeta: b.meta("secrets-key"),
		Spec: kms.KeySpec{ForProvider: kms.KeyParameters{
			Region:               b.regionPtr(),
			Description:          compose.Ptr("Envelope encryption of Kubernetes secrets in " + b.clusterName()),
			EnableKeyRotation:    compose.Ptr(true),
			DeletionWindowInDays: compose.Ptr(30.0),
			Tags:                 b.tag.Tags("secrets-key"),
		}},
	})
}

// controlPlane composes the cluster once its secrets key exists: EKS takes
// the key's ARN (there is no selector for it), and encryption should be
// there from the first secret on.
func (b *builder) controlPlane() {
	b.role("cluster-role", "eks.amazonaws.com", []string{"arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"}, nil)
	keyARN := b.req.AtProvider("secrets-key", "arn")
	if keyARN == "" {
		b.out.Defer("cluster (and its node groups, add-ons, access entries and pod identities)", "the ARN of secrets-key")
		return
	}
	public := len(b.spec.Endpoint.PublicAccessCIDRs) > 0
	var cidrs []*string
	for _, c := range b.spec.Endpoint.PublicAccessCIDRs {
		cidrs = append(cidrs, compose.Ptr(c))
	}
	var logs []*string
	for _, l := range logTypes {
		logs = append(logs, compose.Ptr(l))
	}
	m := b.meta("cluster")
	m.Annotations = map[string]string{"crossplane.io/external-name": b.clusterName()}
	b.out.Add("cluster", &eks.Cluster{
		ObjectMeta: m,
		Spec: eks.ClusterSpec{ForProvider: eks.ClusterParameters{
			Region:          b.regionPtr(),
			Version:         compose.Ptr(b.spec.Version),
			RoleArnSelector: ref("cluster-role"),
			VPCConfig: &eks.VPCConfigParameters{
				SubnetIDSelector:      b.privateSubnets(),
				EndpointPrivateAccess: compose.Ptr(true),
				EndpointPublicAccess:  compose.Ptr(public),
				PublicAccessCidrs:     cidrs,
			},
			EncryptionConfig: &eks.EncryptionConfigParameters{
				Provider:  &eks.ProviderParameters{KeyArn: compose.Ptr(keyARN)},
				Resources: []*string{compose.Ptr("secrets")},
			},
			EnabledClusterLogTypes: logs,
			AccessConfig: &eks.AccessConfigParameters{
				AuthenticationMode:                      compose.Ptr("API"),
				BootstrapClusterCreatorAdminPermissions: compose.Ptr(false),
			},
			DeletionProtection: compose.Ptr(b.spec.Environment == "prod"),
			Tags:               b.tag.Tags("cluster"),
		}},
	})
}

func (b *builder) status() {
	st := b.out.Status
	st["clusterName"] = b.clusterName()
	if v := b.req.AtProvider("cluster", "endpoint"); v != "" {
		st["endpoint"] = v
	}
	if o, ok := b.req.Observed["cluster"]; ok && o.Resource != nil {
		if v, err := o.Resource.GetString("status.atProvider.identity[0].oidc[0].issuer"); err == nil {
			st["oidcIssuer"] = v
		}
	}
	st["kubeconfigSecret"] = b.kubeconfigName()
}

// ref selects a sibling composed resource of this XR.
var ref = compose.Sibling
