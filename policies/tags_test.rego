package unsilo.tags_test

import data.unsilo.tags
import rego.v1

full_tags := {"managed-by": "crossplane", "unsilo:composite": "platform/network.dev", "unsilo:team": "platform", "unsilo:environment": "dev"}

vpc(t) := {"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "VPC", "spec": {"forProvider": {"region": "ap-northeast-2", "tags": t}}}

test_required_tags_pass if {
	count(tags.deny) == 0 with input as {"resource": vpc(full_tags), "source": "composed"}
}

test_required_tags_pass_untaggable if {
	r := {"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "Route", "spec": {"forProvider": {"region": "ap-northeast-2"}}}
	count(tags.deny) == 0 with input as {"resource": r, "source": "composed", "schema": {"taggable": false, "regional": true}}
}

test_required_tags_fail if {
	some v in tags.deny with input as {"resource": vpc(object.remove(full_tags, ["unsilo:team"])), "source": "composed"}
	v.rule == "required-tags"
	contains(v.msg, "unsilo:team")
}

test_required_tags_fail_no_tags if {
	r := {"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "Subnet", "spec": {"forProvider": {}}}
	some v in tags.deny with input as {"resource": r, "source": "composed"}
	v.rule == "required-tags"
}
