# Every taggable AWS resource carries the platform's tags, so cost, ownership
# and the environment are known from the AWS console alone.
package unsilo.tags

import data.unsilo.lib
import rego.v1

deny contains v if {
	r := input.resource
	lib.is_aws(r)
	lib.taggable
	tags := object.get(lib.for_provider(r), "tags", {})
	missing := {t | some t in lib.required_tags; not tags[t]}
	count(missing) > 0
	v := {
		"rule": "required-tags",
		"field": "spec.forProvider.tags",
		"msg": sprintf("%s is missing tags %v", [r.kind, sort(missing)]),
		"fix": "compose the resource with compose.Tags(xr, name) in its function package",
	}
}
