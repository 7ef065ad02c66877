package unsilo.knowledge_test

import data.unsilo.knowledge
import rego.v1

haiku := "arn:aws:bedrock:ap-northeast-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"

sonnet_profile := "arn:aws:bedrock:ap-northeast-2:123456789012:inference-profile/apac.anthropic.claude-3-5-sonnet-20241022-v2:0"

invoke := ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]

role(statements) := {"apiVersion": "iam.aws.m.upbound.io/v1beta1", "kind": "Role", "spec": {"forProvider": {"inlinePolicy": [{
	"name": "p", "policy": json.marshal({"Version": "2012-10-17", "Statement": statements}),
}]}}}

env(e) := {"spec": {"environment": e}}

rules(input_) := {v.rule | some v in knowledge.deny with input as input_}

test_bedrock_never_star_pass if {
	routed := {
		"Sid": "Routed", "Effect": "Allow", "Action": invoke,
		"Resource": ["arn:aws:bedrock:*::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0"],
		"Condition": {"StringLike": {"bedrock:InferenceProfileArn": [sonnet_profile]}},
	}
	r := role([{"Sid": "M", "Effect": "Allow", "Action": invoke, "Resource": [haiku, sonnet_profile]}, routed])
	count(rules({"resource": r, "xr": env("prod")})) == 0
}

test_bedrock_never_star_fail if {
	"bedrock-never-star" in rules({"resource": role([{"Sid": "All", "Effect": "Allow", "Action": ["bedrock:*"], "Resource": [haiku]}]), "xr": env("prod")})
	"bedrock-never-star" in rules({"resource": role([{"Sid": "Any", "Effect": "Allow", "Action": invoke, "Resource": "*"}]), "xr": env("prod")})
	"bedrock-never-star" in rules({"resource": role([{"Sid": "Fam", "Effect": "Allow", "Action": invoke, "Resource": ["arn:aws:bedrock:ap-northeast-2::foundation-model/anthropic.*"]}]), "xr": env("prod")})

	# A region wildcard without the profile condition reaches the model directly.
	"bedrock-never-star" in rules({"resource": role([{"Sid": "Open", "Effect": "Allow", "Action": invoke, "Resource": ["arn:aws:bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"]}]), "xr": env("prod")})
}

test_bedrock_models_allowlist_pass if {
	count(rules({"resource": role([{"Sid": "M", "Effect": "Allow", "Action": invoke, "Resource": [haiku]}]), "xr": env("dev")})) == 0

	# Other services' statements are not about models.
	count(rules({"resource": role([{"Sid": "S", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}]), "xr": env("dev")})) == 0
}

test_bedrock_models_allowlist_fail if {
	# Sonnet is approved for prod only.
	"bedrock-models-allowlist" in rules({"resource": role([{"Sid": "M", "Effect": "Allow", "Action": invoke, "Resource": [sonnet_profile]}]), "xr": env("dev")})
	"bedrock-models-allowlist" in rules({"resource": role([{"Sid": "M", "Effect": "Allow", "Action": invoke, "Resource": ["arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-70b-instruct-v1:0"]}]), "xr": env("prod")})
}

index(sse) := {"apiVersion": "kendra.aws.m.upbound.io/v1beta1", "kind": "Index", "spec": {"forProvider": object.union({"name": "kb"}, sse)}}

test_kendra_encrypted_pass if {
	count(rules({"resource": index({"serverSideEncryptionConfiguration": {"kmsKeyId": "arn:aws:kms:ap-northeast-2:123456789012:key/k"}})})) == 0
}

test_kendra_encrypted_fail if {
	"kendra-encrypted" in rules({"resource": index({})})
	"kendra-encrypted" in rules({"resource": index({"serverSideEncryptionConfiguration": {}})})
}

boundary_policy := {"apiVersion": "iam.aws.m.upbound.io/v1beta1", "kind": "Policy",
	"metadata": {"labels": {"platform.unsilo.dev/component": "permissions-boundary"}},
	"spec": {"forProvider": {"policy": json.marshal({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "bedrock:InvokeModel"], "Resource": "*"}]})}}}

test_boundary_is_a_ceiling_not_a_grant if {
	count(rules({"resource": boundary_policy, "xr": env("prod")})) == 0
}

test_same_policy_as_grant_denied if {
	grant := object.remove(boundary_policy, ["metadata"])
	"bedrock-never-star" in rules({"resource": grant, "xr": env("prod")})
}
