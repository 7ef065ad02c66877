package unsilo.compute_test

import data.unsilo.compute
import rego.v1

lt(tokens, t) := {"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "LaunchTemplate", "spec": {"forProvider": {
	"instanceType": t, "metadataOptions": {"httpTokens": tokens},
}}}

rules(r, env) := {v.rule | some v in compute.deny with input as {"resource": r, "xr": {"spec": {"environment": env}}, "source": "composed"}}

test_imdsv2_required_pass if {
	count(rules(lt("required", "t3.small"), "dev")) == 0
}

test_imdsv2_required_fail if {
	"imdsv2-required" in rules(lt("optional", "t3.small"), "dev")
}

test_instance_type_allowlist_pass if {
	not "instance-type-allowlist" in rules(lt("required", "m7g.xlarge"), "prod")
}

test_instance_type_allowlist_fail if {
	"instance-type-allowlist" in rules(lt("required", "m7g.xlarge"), "dev")
}
