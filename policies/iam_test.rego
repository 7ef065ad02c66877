package unsilo.iam_test

import data.unsilo.iam
import rego.v1

role(statement) := {"apiVersion": "iam.aws.m.upbound.io/v1beta1", "kind": "Role", "spec": {"forProvider": {"inlinePolicy": [{
	"name": "p", "policy": json.marshal({"Version": "2012-10-17", "Statement": [statement]}),
}]}}}

test_iam_no_star_pass if {
	count(iam.deny) == 0 with input as {"resource": role({"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]})}
	count(iam.deny) == 0 with input as {"resource": role({"Sid": "B", "Effect": "Allow", "Action": ["ec2:*"], "Resource": ["*"]})}
}

test_iam_no_star_fail if {
	some v in iam.deny with input as {"resource": role({"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"})}
	v.rule == "iam-no-star"
	contains(v.msg, "All")
}
