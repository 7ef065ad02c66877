package unsilo.network_test

import data.unsilo.network
import rego.v1

ingress(cidr) := {
	"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "SecurityGroupIngressRule",
	"spec": {"forProvider": {
		"cidrIpv4": cidr, "fromPort": 443, "toPort": 443, "ipProtocol": "tcp",
		"securityGroupIdSelector": {"matchControllerRef": true, "matchLabels": {"platform.unsilo.dev/component": "sg-endpoints"}},
	}},
}

test_ssm_endpoints_not_world_pass if {
	count(network.deny) == 0 with input as {"resource": ingress("10.10.0.0/16"), "source": "composed"}
}

test_ssm_endpoints_not_world_fail if {
	some v in network.deny with input as {"resource": ingress("0.0.0.0/0"), "source": "composed"}
	v.rule == "ssm-endpoints-not-world"
	v.field == "spec.forProvider.cidrIpv4"
}

vpc := {"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "VPC", "spec": {"forProvider": {}}}

test_flow_logs_present_pass if {
	count(network.deny) == 0 with input as {"resource": vpc, "source": "composed", "composed": [{"kind": "VPC"}, {"kind": "FlowLog"}]}
}

test_flow_logs_present_fail if {
	some v in network.deny with input as {"resource": vpc, "source": "composed", "composed": [{"kind": "VPC"}, {"kind": "Subnet"}]}
	v.rule == "flow-logs-present"
}

flow(t) := {"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "FlowLog", "spec": {"forProvider": {"logDestinationType": t}}}

test_flow_logs_to_lake_pass if {
	count(network.deny) == 0 with input as {"resource": flow("s3"), "source": "composed"}
}

test_flow_logs_to_lake_fail if {
	some v in network.deny with input as {"resource": flow("cloud-watch-logs"), "source": "composed"}
	v.rule == "flow-logs-to-lake"
}
