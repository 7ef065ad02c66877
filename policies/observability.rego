# The ops UIs (Grafana, Prometheus, Alertmanager, n8n) are never exposed:
# ClusterIP only, reached through SSM port forwarding. A dashboard or a
# workflow editor on the internet is an incident waiting to happen.
package unsilo.observability

import rego.v1

ui_namespaces := {"observability", "n8n"}

exposed_types := {"LoadBalancer", "NodePort"}

fix := "keep it ClusterIP and reach it with aws ssm start-session port forwarding (platform/observability/README.md)"

deny contains v if {
	r := input.resource
	r.kind == "Service"
	object.get(r, ["metadata", "namespace"], "") in ui_namespaces
	r.spec.type in exposed_types
	v := {"rule": "ui-cluster-ip-only", "field": "spec.type", "msg": sprintf("Service %v is %v", [r.metadata.name, r.spec.type]), "fix": fix}
}

deny contains v if {
	r := input.resource
	r.kind == "Ingress"
	object.get(r, ["metadata", "namespace"], "") in ui_namespaces
	v := {"rule": "ui-cluster-ip-only", "field": "kind", "msg": sprintf("Ingress %v exposes an ops UI", [r.metadata.name]), "fix": fix}
}

# An Argo CD Application of an upstream chart: its values must not ask the
# chart for a LoadBalancer, a NodePort or an Ingress.
app_values(r) := object.get(r, ["spec", "source", "helm", "valuesObject"], {}) if {
	r.kind == "Application"
	object.get(r, ["spec", "destination", "namespace"], "") in ui_namespaces
}

deny contains v if {
	values := app_values(input.resource)
	walk(values, [path, value])
	count(path) > 1
	path[count(path) - 1] == "type"
	path[count(path) - 2] == "service"
	value in exposed_types
	v := {"rule": "ui-cluster-ip-only", "field": concat(".", array.concat(["spec.source.helm.valuesObject"], [sprintf("%v", [p]) | some p in path])), "msg": sprintf("the chart is asked for a %v Service", [value]), "fix": fix}
}

deny contains v if {
	values := app_values(input.resource)
	walk(values, [path, value])
	count(path) > 1
	path[count(path) - 1] == "enabled"
	path[count(path) - 2] == "ingress"
	value == true
	v := {"rule": "ui-cluster-ip-only", "field": concat(".", array.concat(["spec.source.helm.valuesObject"], [sprintf("%v", [p]) | some p in path])), "msg": "the chart is asked for an Ingress", "fix": fix}
}
