# Knowledge: what rag-api may call on Bedrock, and Kendra's encryption.
# Bedrock bills per token and a wildcard lets any workload with the role run
# any model (including ones the company has not approved for its data).
package unsilo.knowledge

import data.unsilo.lib
import rego.v1

as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

# Allow statements of the IAM documents a Role or Policy carries.
statements contains s if {
	r := input.resource
	startswith(r.apiVersion, "iam.")
	r.kind == "Role"
	some p in object.get(lib.for_provider(r), "inlinePolicy", [])
	some s in as_list(json.unmarshal(p.policy).Statement)
	s.Effect == "Allow"
}

statements contains s if {
	r := input.resource
	startswith(r.apiVersion, "iam.")
	r.kind == "Policy"
	not boundary(r)
	some s in as_list(json.unmarshal(lib.for_provider(r).policy).Statement)
	s.Effect == "Allow"
}

# A Cluster's permissions boundary grants nothing: it is the ceiling of the
# roles' own policies, which these rules check (functions/cluster/iam.go).
boundary(r) if object.get(object.get(r.metadata, "labels", {}), "platform.unsilo.dev/component", "") == "permissions-boundary"

invokes(s) if {
	some a in as_list(s.Action)
	startswith(lower(a), "bedrock:invoke")
}

invokes(s) if {
	some a in as_list(s.Action)
	a in {"*", "bedrock:*"}
}

# The model or profile id at the end of a Bedrock ARN.
model_id(arn) := substring(arn, indexof(arn, "/") + 1, -1) if contains(arn, "/")

# A foundation model reached in any region, but only through a listed
# inference profile, is how cross-region profiles work; it is not a wildcard.
profile_routed(s, arn) if {
	regex.match(`^arn:aws[a-z-]*:bedrock:\*::foundation-model/[^*?]+$`, arn)
	count(as_list(s.Condition.StringLike["bedrock:InferenceProfileArn"])) > 0
}

wildcard(s, arn) if {
	arn == "*"
}

wildcard(s, arn) if {
	contains(arn, "*")
	not profile_routed(s, arn)
}

deny contains v if {
	some s in statements
	invokes(s)
	some a in as_list(s.Action)
	contains(a, "*")
	v := {
		"rule": "bedrock-never-star",
		"field": "spec.forProvider",
		"msg": sprintf("statement %v allows %v: Bedrock actions are listed one by one", [object.get(s, "Sid", "(no Sid)"), a]),
		"fix": "allow bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream (what Converse/ConverseStream need) and nothing else",
	}
}

deny contains v if {
	some s in statements
	invokes(s)
	some arn in as_list(object.get(s, "Resource", "*"))
	wildcard(s, arn)
	v := {
		"rule": "bedrock-never-star",
		"field": "spec.forProvider",
		"msg": sprintf("statement %v lets the role invoke %v", [object.get(s, "Sid", "(no Sid)"), arn]),
		"fix": "list each model or inference profile ARN in the KnowledgeBase's spec.bedrock.modelArns",
	}
}

# Inference profile ids carry a geography prefix in front of the model id.
bare_model(id) := substring(id, count(p), -1) if {
	some p in lib.bedrock_profile_prefixes
	startswith(id, p)
}

bare_model(id) := id if {
	not any_prefix(id)
}

any_prefix(id) if {
	some p in lib.bedrock_profile_prefixes
	startswith(id, p)
}

deny contains v if {
	some s in statements
	invokes(s)
	some arn in as_list(object.get(s, "Resource", "*"))
	not wildcard(s, arn)
	id := model_id(arn)
	not bare_model(id) in lib.allowed_bedrock_models[lib.environment]
	v := {
		"rule": "bedrock-models-allowlist",
		"field": "spec.forProvider",
		"msg": sprintf("%v is not approved for %v (approved: %v)", [id, lib.environment, concat(", ", sort(lib.allowed_bedrock_models[lib.environment]))]),
		"fix": "use an approved model, or get the model added to allowed_bedrock_models in policies/lib.rego",
	}
}

deny contains v if {
	r := input.resource
	startswith(r.apiVersion, "kendra.")
	r.kind == "Index"
	sse := object.get(lib.for_provider(r), "serverSideEncryptionConfiguration", {})
	not sse.kmsKeyId
	v := {
		"rule": "kendra-encrypted",
		"field": "spec.forProvider.serverSideEncryptionConfiguration.kmsKeyId",
		"msg": "the index is not encrypted with a customer managed KMS key",
		"fix": "set serverSideEncryptionConfiguration.kmsKeyId to a key the platform manages (the KnowledgeBase API composes one)",
	}
}
