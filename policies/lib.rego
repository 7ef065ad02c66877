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
