# The internet reaches only load balancers, on 80 and 443; every public
# load balancer has a WAF and writes access logs to the lake.
package unsilo.edge

import data.unsilo.lib
import rego.v1

web_ports := {80, 443}

deny contains v if {
	r := input.resource
	r.kind == "SecurityGroupIngressRule"
	fp := lib.for_provider(r)
	some field in ["cidrIpv4", "cidrIpv6"]
	fp[field] in lib.world_cidrs
	not load_balancer_web_port(fp)
	v := {
		"rule": "no-world-ingress",
		"field": sprintf("spec.forProvider.%s", [field]),
		"msg": sprintf("port %v is open to %s", [object.get(fp, "fromPort", "all"), fp[field]]),
		"fix": "only a load balancer's security group may admit the internet, on 80 or 443; reach instances through the load balancer and admins through SSM",
	}
}

# The rule's security group is one a sibling load balancer uses, and the
# rule opens exactly 80 or 443.
load_balancer_web_port(fp) if {
	fp.fromPort == fp.toPort
	fp.fromPort in web_ports
	sg := fp.securityGroupIdSelector.matchLabels[lib.component_label]
	some c in input.composed
	c.kind == "LB"
	c.resource.spec.forProvider.securityGroupSelector.matchLabels[lib.component_label] == sg
}

public_lb(r) if {
	r.kind == "LB"
	object.get(lib.for_provider(r), "internal", false) == false
}

deny contains v if {
	r := input.resource
	public_lb(r)
	input.source == "composed"
	not has_regional_waf
	v := {
		"rule": "waf-on-public-alb",
		"field": "kind",
		"msg": "an internet-facing load balancer is composed without a regional WAF web ACL",
		"fix": "compose a wafv2 WebACL (scope REGIONAL) and associate it with the load balancer",
	}
}

has_regional_waf if {
	some c in input.composed
	c.kind == "WebACL"
	c.resource.spec.forProvider.scope == "REGIONAL"
}

deny contains v if {
	r := input.resource
	r.kind == "LB"
	not lib.for_provider(r).accessLogs.enabled
	v := {
		"rule": "alb-access-logs",
		"field": "spec.forProvider.accessLogs.enabled",
		"msg": "load balancer access logs are off",
		"fix": "enable accessLogs with the lake's raw bucket and a prefix",
	}
}
