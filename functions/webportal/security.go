package webportal

import (
	"strconv"

	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// Security groups chain ALB -> instances -> database: the world reaches only
// the ALB on 80/443, the instances accept only the ALB, the database only
// the instances.
const (
	sgALB = "sg-alb"
	sgApp = "sg-app"
	sgDB  = "sg-db"
	mysql = 3306
)

func (b *builder) securityGroups() {
	for _, sg := range []struct{ name, desc string }{
		{sgALB, "HTTP(S) from the internet to the load balancer"},
		{sgApp, "The application port from the load balancer only"},
		{sgDB, "MySQL from the application instances only"},
	} {
		b.out.Add(sg.name, &ec2.SecurityGroup{
			ObjectMeta: b.meta(sg.name),
			Spec: ec2.SecurityGroupSpec{ForProvider: ec2.SecurityGroupParameters_2{
				Region:        b.regionPtr(),
				VPCIDSelector: b.vpc(),
				Name:          compose.Ptr(compose.Name(b.req.XR, sg.name)),
				Description:   compose.Ptr(sg.desc),
				Tags:          b.tag.Tags(sg.name),
			}},
		})
	}
	world := []int{443}
	if b.spec.HTTPS.AllowHTTPOnly || b.spec.HTTPS.CertificateARN != "" {
		world = []int{80, 443} // 80 only redirects to 443 (or serves, in an HTTP-only dev portal)
	}
	for _, port := range world {
		for _, cidr := range []string{"0.0.0.0/0", "::/0"} {
			name := sgALB + "-in-" + strconv.Itoa(port) + map[bool]string{true: "-v6", false: ""}[cidr == "::/0"]
			r := b.ingress(name, sgALB, port, "from the internet")
			if cidr == "::/0" {
				r.Spec.ForProvider.CidrIPv6 = compose.Ptr(cidr)
			} else {
				r.Spec.ForProvider.CidrIPv4 = compose.Ptr(cidr)
			}
			b.out.Add(name, r)
		}
	}
	app := b.spec.Instances.Port
	b.chain(sgALB, sgApp, app, "load balancer to instances")
	b.chain(sgApp, sgDB, mysql, "instances to database")

	// Instances reach AWS APIs (SSM, S3) and package mirrors through NAT.
	out := b.egress(sgApp+"-out-https", sgApp, 443, "HTTPS to AWS APIs and updates")
	out.Spec.ForProvider.CidrIPv4 = compose.Ptr("0.0.0.0/0")
	b.out.Add(sgApp+"-out-https", out)
}

// chain lets from reach to on port: egress on from, ingress on to.
func (b *builder) chain(from, to string, port int, desc string) {
	e := b.egress(from+"-to-"+to, from, port, desc)
	e.Spec.ForProvider.ReferencedSecurityGroupIDSelector = ref(to)
	b.out.Add(from+"-to-"+to, e)
	i := b.ingress(to+"-from-"+from, to, port, desc)
	i.Spec.ForProvider.ReferencedSecurityGroupIDSelector = ref(from)
	b.out.Add(to+"-from-"+from, i)
}

func (b *builder) ingress(name, sg string, port int, desc string) *ec2.SecurityGroupIngressRule {
	return &ec2.SecurityGroupIngressRule{
		ObjectMeta: b.meta(name),
		Spec: ec2.SecurityGroupIngressRuleSpec{ForProvider: ec2.SecurityGroupIngressRuleParameters{
			Region: b.regionPtr(), SecurityGroupIDSelector: ref(sg),
			IPProtocol: compose.Ptr("tcp"), FromPort: compose.Ptr(float64(port)), ToPort: compose.Ptr(float64(port)),
			Description: compose.Ptr(desc), Tags: b.tag.Tags(name),
		}},
	}
}

func (b *builder) egress(name, sg string, port int, desc string) *ec2.SecurityGroupEgressRule {
	return &ec2.SecurityGroupEgressRule{
		ObjectMeta: b.meta(name),
		Spec: ec2.SecurityGroupEgressRuleSpec{ForProvider: ec2.SecurityGroupEgressRuleParameters{
			Region: b.regionPtr(), SecurityGroupIDSelector: ref(sg),
			IPProtocol: compose.Ptr("tcp"), FromPort: compose.Ptr(float64(port)), ToPort: compose.Ptr(float64(port)),
			Description: compose.Ptr(desc), Tags: b.tag.Tags(name),
		}},
	}
}
