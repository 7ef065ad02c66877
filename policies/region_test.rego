package unsilo.region_test

import data.unsilo.region
import rego.v1

res(r) := {"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "VPC", "spec": {"forProvider": {"region": r}}}

test_region_allowlist_pass if {
	count(region.deny) == 0 with input as {"resource": res("ap-northeast-2")}
}

test_region_allowlist_pass_non_aws if {
	count(region.deny) == 0 with input as {"resource": {"apiVersion": "v1", "kind": "ConfigMap"}}
}

test_region_allowlist_fail if {
	some v in region.deny with input as {"resource": res("sa-east-1")}
	v.rule == "region-allowlist"
	contains(v.msg, "sa-east-1")
}

test_region_allowlist_fail_missing if {
	some v in region.deny with input as {"resource": {"apiVersion": "s3.aws.m.upbound.io/v1beta1", "kind": "Bucket", "spec": {"forProvider": {}}}}
	v.rule == "region-allowlist"
}

test_region_allowlist_pass_global if {
	r := {"apiVersion": "cloudfront.aws.m.upbound.io/v1beta1", "kind": "Distribution", "spec": {"forProvider": {}}}
	count(region.deny) == 0 with input as {"resource": r, "schema": {"taggable": true, "regional": false}}
}
