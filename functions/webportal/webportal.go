package webportal

import (
	"context"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	autoscaling "github.com/upbound/provider-aws/v2/apis/namespaced/autoscaling/v1beta1"
	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"
	elbv2 "github.com/upbound/provider-aws/v2/apis/namespaced/elbv2/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"
	rds "github.com/upbound/provider-aws/v2/apis/namespaced/rds/v1beta1"
	wafv2 "github.com/upbound/provider-aws/v2/apis/namespaced/wafv2/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/controlplane"
	"github.com/unsilo/unsilo/functions/network"
)

// API composes WebPortal XRs.
type API struct{}

// Kind implements compose.API.
func (API) Kind() string { return "WebPortal" }

// AddToScheme implements compose.API.
func (API) AddToScheme(s *runtime.Scheme) error {
	return compose.AddToScheme(s, ec2.AddToScheme, elbv2.AddToScheme, autoscaling.AddToScheme, iam.AddToScheme, rds.AddToScheme, wafv2.AddToScheme)
}

type builder struct {
	req    *compose.Request
	spec   *Spec
	region string
	tag    *compose.Tagger
	out    *compose.Result
	cp     controlplane.ControlPlane
}

// Compose implements compose.API.
func (API) Compose(_ context.Context, req *compose.Request) (*compose.Result, error) {
	spec, err := readSpec(req.XR)
	if err != nil {
		return nil, err
	}
	out := compose.NewResult()
	// Ask for both at once: one round trip before the first resources.
	net, netOK, err := network.Resolve(out, req, "network", "", spec.NetworkRef.Name, "spec.networkRef.name")
	if err != nil {
		return out, err
	}
	cp, cpOK, err := controlplane.Resolve(out, req, spec.ControlPlaneRef)
	if err != nil || !netOK || !cpOK {
		return out, err // not fetched yet: Crossplane calls again with them
	}
	region := net.Region
	if !spec.HTTPS.AllowHTTPOnly && certRegion(spec.HTTPS.CertificateARN) != region {
		return nil, compose.Invalid("spec.https.certificateArn", spec.HTTPS.CertificateARN,
			"the ALB needs a certificate from its own region %s, not %s", region, certRegion(spec.HTTPS.CertificateARN))
	}
	b := &builder{req: req, spec: spec, region: region, cp: cp, tag: compose.NewTagger(req.XR), out: out}
	b.securityGroups()
	b.loadBalancer()
	b.compute()
	b.database()
	b.firewall()
	out.UseComposite(req, "Network", spec.NetworkRef.Name, "the portal's load balancer, instances and database live in the Network's subnets")
	cp.Apply(out)
	b.status()
	return out, nil
}

func (b *builder) meta(name string) metav1.ObjectMeta {
	return compose.Meta(b.req.XR, name, nil)
}

func (b *builder) regionPtr() *string { return compose.Ptr(b.region) }

// fromNetwork selects what the referenced Network composed, by the labels
// it puts on its resources (see functions/network).
func (b *builder) fromNetwork(labels map[string]string) *xpv1.NamespacedSelector {
	l := map[string]string{"platform.unsilo.dev/network": b.spec.NetworkRef.Name}
	for k, v := range labels {
		l[k] = v
	}
	return &xpv1.NamespacedSelector{MatchLabels: l}
}

func (b *builder) subnets(access string) *xpv1.NamespacedSelector {
	return b.fromNetwork(map[string]string{compose.LabelAccess: access})
}

func (b *builder) vpc() *xpv1.NamespacedSelector {
	return b.fromNetwork(map[string]string{compose.LabelComponent: "vpc"})
}

func (b *builder) status() {
	st := b.out.Status
	if v := b.req.AtProvider("alb", "dnsName"); v != "" {
		st["albDnsName"] = v
	}
	if v := b.req.AtProvider("database", "address"); v != "" {
		st["databaseEndpoint"] = v
	}
	if v := b.req.AtProvider("asg", "id"); v != "" {
		st["autoscalingGroupName"] = v
	}
	if v := b.databaseSecretARN(); v != "" {
		st["databaseSecretArn"] = v
	}
	st["network"] = b.spec.NetworkRef.Name
}

// ref selects a sibling composed resource of this XR.
var ref = compose.Sibling
