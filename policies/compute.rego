# Instances: IMDSv2 only (no credential theft through SSRF to the metadata
# service), and sizes from the environment's allowlist.
package unsilo.compute

import data.unsilo.lib
import rego.v1

deny contains v if {
	r := input.resource
	r.kind in {"LaunchTemplate", "Instance"}
	startswith(r.apiVersion, "ec2.")
	object.get(lib.for_provider(r), ["metadataOptions", "httpTokens"], "optional") != "required"
	v := {
		"rule": "imdsv2-required",
		"field": "spec.forProvider.metadataOptions.httpTokens",
		"msg": "instances accept IMDSv1",
		"fix": "set metadataOptions.httpTokens: required",
	}
}

deny contains v if {
	r := input.resource
	r.kind in {"LaunchTemplate", "Instance"}
	startswith(r.apiVersion, "ec2.")
	t := lib.for_provider(r).instanceType
	not t in lib.allowed_instance_types[lib.environment]
	v := {
		"rule": "instance-type-allowlist",
		"field": "spec.forProvider.instanceType",
		"msg": sprintf("%s is not allowed in %s", [t, lib.environment]),
		"fix": sprintf("use one of %v, or ask the platform team to extend policies/lib.rego", [sort(lib.allowed_instance_types[lib.environment])]),
	}
}
