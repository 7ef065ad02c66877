# IAM: no statement grants every action on every resource, anywhere the
# platform writes a policy document (inline role policies, managed policies).
package unsilo.iam

import data.unsilo.lib
import rego.v1

documents(r) := docs if {
	r.kind == "Role"
	docs := [json.unmarshal(p.policy) | some p in object.get(lib.for_provider(r), "inlinePolicy", []); p.policy]
}

documents(r) := [json.unmarshal(lib.for_provider(r).policy)] if {
	r.kind == "Policy"
	startswith(r.apiVersion, "iam.")
}

as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

deny contains v if {
	r := input.resource
	startswith(r.apiVersion, "iam.")
	some doc in documents(r)
	some s in as_list(doc.Statement)
	s.Effect == "Allow"
	"*" in as_list(s.Action)
	"*" in as_list(object.get(s, "Resource", "*"))
	v := {
		"rule": "iam-no-star",
		"field": "spec.forProvider",
		"msg": sprintf("statement %v allows every action on every resource", [object.get(s, "Sid", "(no Sid)")]),
		"fix": "list the actions the workload needs (service:Action) and the resources it needs them on",
	}
}
