# Network rules: internal tools are reachable only through SSM, and every
# VPC's traffic lands in the lake.
package unsilo.network

import data.unsilo.lib
import rego.v1

# The SSM interface endpoints' security group admits only the VPC's range.
deny contains v if {
	r := input.resource
	r.kind == "SecurityGroupIngressRule"
	fp := lib.for_provider(r)
	fp.securityGroupIdSelector.matchLabels["platform.unsilo.dev/component"] == "sg-endpoints"
	some field in ["cidrIpv4", "cidrIpv6"]
	fp[field] in lib.world_cidrs
	v := {
		"rule": "ssm-endpoints-not-world",
		"field": sprintf("spec.forProvider.%s", [field]),
		"msg": sprintf("the SSM endpoints' security group is open to %s", [fp[field]]),
		"fix": "admit only the VPC CIDR: SSM endpoints must never be reachable from outside the VPC",
	}
}

# A VPC without flow logs is a blind spot in the lake.
deny contains v if {
	r := input.resource
	r.kind == "VPC"
	input.source == "composed"
	not has_flow_log
	v := {
		"rule": "flow-logs-present",
		"field": "kind",
		"msg": "the VPC is composed without a FlowLog",
		"fix": "compose an ec2 FlowLog with vpcIdSelector pointing at the VPC and an S3 destination in the lake",
	}
}

# Flow logs go to S3 (the lake), not CloudWatch, and capture all traffic.
deny contains v if {
	r := input.resource
	r.kind == "FlowLog"
	fp := lib.for_provider(r)
	object.get(fp, "logDestinationType", "cloud-watch-logs") != "s3"
	v := {
		"rule": "flow-logs-to-lake",
		"field": "spec.forProvider.logDestinationType",
		"msg": "flow logs are not delivered to S3",
		"fix": "set logDestinationType: s3 and logDestination to the lake's raw bucket ARN",
	}
}

has_flow_log if {
	some c in input.composed
	c.kind == "FlowLog"
}
