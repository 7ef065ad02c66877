package network

import (
	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

const anywhere = "0.0.0.0/0"

// routing composes one public route table through the internet gateway,
// NAT gateways in public subnets, and a private route table per zone whose
// default route goes to the zone's NAT (perAZ) or to the only NAT (single).
func (b *builder) routing() {
	b.routeTable("rt-public", "public")
	b.route("route-public-default", "rt-public", &ec2.RouteParameters_2{GatewayIDSelector: ref("igw")})

	nats := 1
	if b.spec.NATMode == NATPerAZ {
		nats = b.spec.AZCount
	}
	for i := range nats {
		zone := string(rune('a' + i))
		eip, nat := "eip-nat-"+zone, "nat-"+zone
		b.out.Add(eip, &ec2.EIP{
			ObjectMeta: b.meta(eip, nil),
			Spec: ec2.EIPSpec{ForProvider: ec2.EIPParameters{
				Region: b.region(),
				Domain: compose.Ptr("vpc"),
				Tags:   b.tags(eip),
			}},
		})
		natGVK := ec2.NATGateway_GroupVersionKind
		for _, d := range []compose.Dependency{
			{Of: subnetName("public", i), OfKind: ec2.Subnet_GroupVersionKind, Reason: "the NAT gateway's interface lives in this subnet"},
			{Of: eip, OfKind: ec2.EIP_GroupVersionKind, Reason: "the NAT gateway holds this address"},
			{Of: "igw", OfKind: ec2.InternetGateway_GroupVersionKind, Reason: "the gateway cannot detach while the NAT's public address is mapped"},
		} {
			d.By, d.ByKind = nat, natGVK
			b.out.Use(b.req, d)
		}
		b.out.Add(nat, &ec2.NATGateway{
			ObjectMeta: b.meta(nat, map[string]string{compose.LabelZone: b.spec.Region + zone}),
			Spec: ec2.NATGatewaySpec{ForProvider: ec2.NATGatewayParameters_2{
				Region:               b.region(),
				ConnectivityType:     compose.Ptr("public"),
				AllocationIDSelector: ref(eip),
				SubnetIDSelector:     ref(subnetName("public", i)),
				Tags:                 b.tags(nat),
			}},
		})
	}

	for i := range b.spec.AZCount {
		zone := string(rune('a' + i))
		rt := "rt-private-" + zone
		b.routeTable(rt, "private")
		natZone := "a"
		if b.spec.NATMode == NATPerAZ {
			natZone = zone
		}
		b.route("route-private-"+zone+"-default", rt, &ec2.RouteParameters_2{NATGatewayIDSelector: ref("nat-" + natZone)})
		b.associate("rta-private-"+zone, rt, subnetName("private", i))
		b.associate("rta-public-"+zone, "rt-public", subnetName("public", i))
	}
}

func (b *builder) routeTable(name, access string) {
	b.out.Add(name, &ec2.RouteTable{
		ObjectMeta: b.meta(name, map[string]string{compose.LabelAccess: access}),
		Spec: ec2.RouteTableSpec{ForProvider: ec2.RouteTableParameters_2{
			Region:        b.region(),
			VPCIDSelector: ref("vpc"),
			Tags:          b.tags(name),
		}},
	})
}

// route adds a default route; target carries the gateway selector.
func (b *builder) route(name, table string, target *ec2.RouteParameters_2) {
	target.Region = b.region()
	target.DestinationCidrBlock = compose.Ptr(anywhere)
	target.RouteTableIDSelector = ref(table)
	b.out.Add(name, &ec2.Route{
		ObjectMeta: b.meta(name, nil),
		Spec:       ec2.RouteSpec{ForProvider: *target},
	})
}

func (b *builder) associate(name, table, subnet string) {
	b.out.Add(name, &ec2.RouteTableAssociation{
		ObjectMeta: b.meta(name, nil),
		Spec: ec2.RouteTableAssociationSpec{ForProvider: ec2.RouteTableAssociationParameters{
			Region:               b.region(),
			RouteTableIDSelector: ref(table),
			SubnetIDSelector:     ref(subnet),
		}},
	})
}

// privateRouteTables lists the private route tables, for the S3 endpoint.
func (b *builder) privateRouteTables() []string {
	out := make([]string, b.spec.AZCount)
	for i := range out {
		out[i] = "rt-private-" + string(rune('a'+i))
	}
	return out
}
