package unsilo.edge_test

import data.unsilo.edge
import rego.v1

ingress(sg, port) := {"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "SecurityGroupIngressRule", "spec": {"forProvider": {
	"cidrIpv4": "0.0.0.0/0", "fromPort": port, "toPort": port, "ipProtocol": "tcp",
	"securityGroupIdSelector": {"matchLabels": {"platform.unsilo.dev/component": sg}},
}}}

lb(logs) := {"apiVersion": "elbv2.aws.m.upbound.io/v1beta1", "kind": "LB", "spec": {"forProvider": {
	"internal": false, "accessLogs": {"enabled": logs, "bucket": "lake"},
	"securityGroupSelector": {"matchLabels": {"platform.unsilo.dev/component": "sg-alb"}},
}}}

waf := {"apiVersion": "wafv2.aws.m.upbound.io/v1beta1", "kind": "WebACL", "spec": {"forProvider": {"scope": "REGIONAL"}}}

siblings := [{"kind": "LB", "name": "alb", "resource": lb(true)}, {"kind": "WebACL", "name": "waf", "resource": waf}]

rules(r, composed) := {v.rule | some v in edge.deny with input as {"resource": r, "source": "composed", "composed": composed}}

test_no_world_ingress_pass if {
	count(rules(ingress("sg-alb", 443), siblings)) == 0
}

test_no_world_ingress_fail if {
	"no-world-ingress" in rules(ingress("sg-app", 8080), siblings)
	"no-world-ingress" in rules(ingress("sg-alb", 22), siblings)
	"no-world-ingress" in rules(ingress("sg-alb", 443), [])
}

test_waf_on_public_alb_pass if {
	count(rules(lb(true), siblings)) == 0
}

test_waf_on_public_alb_fail if {
	"waf-on-public-alb" in rules(lb(true), [{"kind": "LB", "name": "alb", "resource": lb(true)}])
}

test_alb_access_logs_pass if {
	not "alb-access-logs" in rules(lb(true), siblings)
}

test_alb_access_logs_fail if {
	"alb-access-logs" in rules(lb(false), siblings)
}
