# Helpers shared by the platform's policies.
package unsilo.lib

import rego.v1

# The platform's required tags (see functions/compose/meta.go).
required_tags := {"managed-by", "unsilo:composite", "unsilo:team", "unsilo:environment"}

# Regions the platform runs in: Seoul for workloads, us-east-1 for what AWS
# only offers there (CloudFront certificates, global WAF).
allowed_regions := {"ap-northeast-2", "ap-northeast-1", "us-east-1", "us-west-2", "eu-west-1", "eu-central-1"}

# Whether the resource's CRD has spec.forProvider.tags / .region; verify
# reads it from the provider's schema. Without schema facts (a policy unit
# test that gives none), assume both, so a rule fails closed.
taggable if not input.schema
taggable if input.schema.taggable

regional if not input.schema
regional if input.schema.regional

is_aws(r) if endswith(split(r.apiVersion, "/")[0], ".aws.m.upbound.io")

for_provider(r) := object.get(r, ["spec", "forProvider"], {})

environment := object.get(input.xr, ["spec", "environment"], "dev")

world_cidrs := {"0.0.0.0/0", "::/0"}

# What each environment may run: teams cannot claim a db.r7g.xlarge in dev
# by accident. The XRDs' enums list every size the platform supports.
allowed_instance_types := {
	"dev": {"t3.micro", "t3.small", "t3.medium", "t4g.small", "t4g.medium"},
	"staging": {"t3.small", "t3.medium", "t3.large", "t4g.medium", "t4g.large", "m7g.large"},
	"prod": {"t3.large", "t4g.large", "m6i.large", "m6i.xlarge", "m7g.large", "m7g.xlarge", "c6i.large", "c7g.large"},
}

allowed_db_classes := {
	"dev": {"db.t4g.micro", "db.t4g.small", "db.t4g.medium"},
	"staging": {"db.t4g.medium", "db.t4g.large", "db.m7g.large"},
	"prod": {"db.t4g.large", "db.m7g.large", "db.m7g.xlarge", "db.r7g.large", "db.r7g.xlarge"},
}

component_label := "platform.unsilo.dev/component"

# The composed sibling called name (a composition resource name).
sibling(name) := c.resource if {
	some c in input.composed
	c.name == name
}

# Bedrock models rag-api may invoke per environment (ids without the
# geography prefix of a cross-region inference profile).
allowed_bedrock_models := {
	"dev": {"anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0"},
	"staging": {"anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic.claude-3-5-sonnet-20241022-v2:0"},
	"prod": {
		"anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0",
		"anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic.claude-3-5-sonnet-20241022-v2:0",
		"anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic.claude-sonnet-4-20250514-v1:0",
	},
}

bedrock_profile_prefixes := {"us.", "eu.", "apac.", "us-gov.", "jp.", "au.", "ca.", "global."}
