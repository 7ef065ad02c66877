package network

import (
	"context"
	"net/netip"

	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/unsilo/unsilo/functions/compose"
)

// API composes Network XRs.
type API struct{}

// Kind implements compose.API.
func (API) Kind() string { return "Network" }

// AddToScheme implements compose.API.
func (API) AddToScheme(s *runtime.Scheme) error { return ec2.AddToScheme(s) }

// builder carries what every resource of one Network needs.
type builder struct {
	req  *compose.Request
	spec *Spec
	vpc  netip.Prefix
	tag  *compose.Tagger
	out  *compose.Result
}

// Compose implements compose.API.
func (API) Compose(_ context.Context, req *compose.Request) (*compose.Result, error) {
	spec, err := readSpec(req.XR)
	if err != nil {
		return nil, err
	}
	b := &builder{req: req, spec: spec, vpc: netip.MustParsePrefix(spec.CIDR), tag: compose.NewTagger(req.XR), out: compose.NewResult()}
	b.vpcAndGateway()
	b.subnets()
	b.routing()
	b.flowLogs()
	b.endpoints()
	b.status()
	return b.out, nil
}

// meta returns the ObjectMeta of a composed resource: labels only; Crossplane
// sets the name, namespace and owner.
func (b *builder) meta(name string, extra map[string]string) metav1.ObjectMeta {
	l := compose.Labels(b.req.XR, name, extra)
	l[networkLabel] = b.req.XR.Resource.GetName()
	return metav1.ObjectMeta{Labels: l}
}

// networkLabel marks subnets and security groups so other XRs in the same
// namespace (WebPortal, Cluster) can select them by network name.
const networkLabel = "platform.unsilo.dev/network"

func (b *builder) region() *string { return compose.Ptr(b.spec.Region) }

func (b *builder) tags(name string) map[string]*string { return b.tag.Tags(name) }

func (b *builder) vpcAndGateway() {
	b.out.Add("vpc", &ec2.VPC{
		ObjectMeta: b.meta("vpc", nil),
		Spec: ec2.VPCSpec{ForProvider: ec2.VPCParameters_2{
			Region:             b.region(),
			CidrBlock:          compose.Ptr(b.spec.CIDR),
			EnableDNSHostnames: compose.Ptr(true), // interface endpoints' private DNS needs both
			EnableDNSSupport:   compose.Ptr(true),
			Tags:               b.tags("vpc"),
		}},
	})
	b.out.Add("igw", &ec2.InternetGateway{
		ObjectMeta: b.meta("igw", nil),
		Spec: ec2.InternetGatewaySpec{ForProvider: ec2.InternetGatewayParameters_2{
			Region:        b.region(),
			VPCIDSelector: ref("vpc"),
			Tags:          b.tags("igw"),
		}},
	})
}

func subnetName(access string, zone int) string {
	return "subnet-" + access + "-" + string(rune('a'+zone))
}

func (b *builder) subnets() {
	for i, zone := range b.spec.zones() {
		for _, access := range []string{"public", "private"} {
			cidr := privateSubnet(b.vpc, i)
			if access == "public" {
				cidr = publicSubnet(b.vpc, i)
			}
			name := subnetName(access, i)
			b.out.Add(name, &ec2.Subnet{
				ObjectMeta: b.meta(name, map[string]string{compose.LabelAccess: access, compose.LabelZone: zone}),
				Spec: ec2.SubnetSpec{ForProvider: ec2.SubnetParameters_2{
					Region:           b.region(),
					VPCIDSelector:    ref("vpc"),
					AvailabilityZone: compose.Ptr(zone),
					CidrBlock:        compose.Ptr(cidr.String()),
					// Nothing gets a public IP by accident: load balancers
					// get theirs from AWS, instances live in private subnets.
					MapPublicIPOnLaunch: compose.Ptr(false),
					Tags:                subnetTags(b.tags(name), access),
				}},
			})
		}
	}
}

// subnetTags adds the tags the AWS Load Balancer Controller and EKS use to
// discover subnets for public and internal load balancers.
func subnetTags(t map[string]*string, access string) map[string]*string {
	if access == "public" {
		t["kubernetes.io/role/elb"] = compose.Ptr("1")
	} else {
		t["kubernetes.io/role/internal-elb"] = compose.Ptr("1")
	}
	return t
}

// ref selects a sibling composed resource of this XR.
var ref = compose.Sibling
