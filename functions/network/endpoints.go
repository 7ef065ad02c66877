package network

import (
	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// flowLogFormat is VPC Flow Logs' v5 field set: the default v2 fields plus
// the ones that say which subnet, instance and path a flow took. The lake's
// log-shipper reads the header line, so it follows whatever is chosen here.
const flowLogFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${flow-direction} ${traffic-path}"

func (b *builder) flowLogs() {
	b.out.Add("flow-log", &ec2.FlowLog{
		ObjectMeta: b.meta("flow-log", nil),
		Spec: ec2.FlowLogSpec{ForProvider: ec2.FlowLogParameters{
			Region:                 b.region(),
			VPCIDSelector:          ref("vpc"),
			LogDestinationType:     compose.Ptr("s3"),
			LogDestination:         compose.Ptr(b.spec.FlowLogs.DestinationARN),
			TrafficType:            compose.Ptr(b.spec.FlowLogs.TrafficType),
			MaxAggregationInterval: compose.Ptr(float64(b.spec.FlowLogs.MaxAggregationInterval)),
			LogFormat:              compose.Ptr(flowLogFormat),
			DestinationOptions: &ec2.DestinationOptionsParameters{
				FileFormat:               compose.Ptr("plain-text"),
				HiveCompatiblePartitions: compose.Ptr(true),
				PerHourPartition:         compose.Ptr(true),
			},
			Tags: b.tags("flow-log"),
		}},
	})
}

// ssmServices are the interface endpoints Session Manager needs to reach
// instances in private subnets with no route to the internet.
var ssmServices = []string{"ssm", "ssmmessages", "ec2messages"}

const endpointSG = "sg-endpoints"

func (b *builder) endpoints() {
	b.out.Add("vpce-s3", &ec2.VPCEndpoint{
		ObjectMeta: b.meta("vpce-s3", nil),
		Spec: ec2.VPCEndpointSpec{ForProvider: ec2.VPCEndpointParameters_2{
			Region:          b.region(),
			VPCIDSelector:   ref("vpc"),
			ServiceName:     compose.Ptr("com.amazonaws." + b.spec.Region + ".s3"),
			VPCEndpointType: compose.Ptr("Gateway"),
			Tags:            b.tags("vpce-s3"),
		}},
	})
	for _, rt := range b.privateRouteTables() {
		name := "vpce-s3-" + rt
		b.out.Add(name, &ec2.VPCEndpointRouteTableAssociation{
			ObjectMeta: b.meta(name, nil),
			Spec: ec2.VPCEndpointRouteTableAssociationSpec{ForProvider: ec2.VPCEndpointRouteTableAssociationParameters{
				Region:                b.region(),
				VPCEndpointIDSelector: ref("vpce-s3"),
				RouteTableIDSelector:  ref(rt),
			}},
		})
	}

	b.out.Add(endpointSG, &ec2.SecurityGroup{
		ObjectMeta: b.meta(endpointSG, nil),
		Spec: ec2.SecurityGroupSpec{ForProvider: ec2.SecurityGroupParameters_2{
			Region:        b.region(),
			VPCIDSelector: ref("vpc"),
			Name:          compose.Ptr(compose.Name(b.req.XR, endpointSG)),
			Description:   compose.Ptr("HTTPS from inside the VPC to the SSM interface endpoints"),
			Tags:          b.tags(endpointSG),
		}},
	})
	// Only the VPC's own range may reach the endpoints; there is no egress
	// rule because endpoints never open connections.
	b.out.Add(endpointSG+"-https-in", &ec2.SecurityGroupIngressRule{
		ObjectMeta: b.meta(endpointSG+"-https-in", nil),
		Spec: ec2.SecurityGroupIngressRuleSpec{ForProvider: ec2.SecurityGroupIngressRuleParameters{
			Region:                  b.region(),
			SecurityGroupIDSelector: ref(endpointSG),
			CidrIPv4:                compose.Ptr(b.spec.CIDR),
			IPProtocol:              compose.Ptr("tcp"),
			FromPort:                compose.Ptr(443.0),
			ToPort:                  compose.Ptr(443.0),
			Description:             compose.Ptr("HTTPS from the VPC"),
			Tags:                    b.tags(endpointSG + "-https-in"),
		}},
	})

	for _, svc := range ssmServices {
		ep := "vpce-" + svc
		b.out.Add(ep, &ec2.VPCEndpoint{
			ObjectMeta: b.meta(ep, nil),
			Spec: ec2.VPCEndpointSpec{ForProvider: ec2.VPCEndpointParameters_2{
				Region:            b.region(),
				VPCIDSelector:     ref("vpc"),
				ServiceName:       compose.Ptr("com.amazonaws." + b.spec.Region + "." + svc),
				VPCEndpointType:   compose.Ptr("Interface"),
				PrivateDNSEnabled: compose.Ptr(true),
				Tags:              b.tags(ep),
			}},
		})
		b.out.Add(ep+"-sg", &ec2.VPCEndpointSecurityGroupAssociation{
			ObjectMeta: b.meta(ep+"-sg", nil),
			Spec: ec2.VPCEndpointSecurityGroupAssociationSpec{ForProvider: ec2.VPCEndpointSecurityGroupAssociationParameters{
				Region:                    b.region(),
				VPCEndpointIDSelector:     ref(ep),
				SecurityGroupIDSelector:   ref(endpointSG),
				ReplaceDefaultAssociation: compose.Ptr(true), // drop the VPC default SG AWS attaches
			}},
		})
		for i := range b.spec.AZCount {
			name := ep + "-" + string(rune('a'+i))
			b.out.Add(name, &ec2.VPCEndpointSubnetAssociation{
				ObjectMeta: b.meta(name, nil),
				Spec: ec2.VPCEndpointSubnetAssociationSpec{ForProvider: ec2.VPCEndpointSubnetAssociationParameters{
					Region:                b.region(),
					VPCEndpointIDSelector: ref(ep),
					SubnetIDSelector:      ref(subnetName("private", i)),
				}},
			})
		}
	}
}
