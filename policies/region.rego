# Resources live only in regions the platform operates in.
package unsilo.region

import data.unsilo.lib
import rego.v1

deny contains v if {
	r := input.resource
	lib.is_aws(r)
	lib.regional
	region := object.get(lib.for_provider(r), "region", "")
	not region in lib.allowed_regions
	v := {
		"rule": "region-allowlist",
		"field": "spec.forProvider.region",
		"msg": sprintf("region %q is not one the platform runs in", [region]),
		"fix": sprintf("use one of %v, or propose a new region in policies/lib.rego", [sort(lib.allowed_regions)]),
	}
}
