package unsilo.observability_test

import data.unsilo.observability
import rego.v1

svc(ns, type) := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "grafana", "namespace": ns}, "spec": {"type": type}}

app(values) := {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "stack"}, "spec": {
	"destination": {"namespace": "observability"},
	"source": {"chart": "kube-prometheus-stack", "helm": {"valuesObject": values}},
}}

test_ui_cluster_ip_only_pass if {
	count(observability.deny) == 0 with input as {"resource": svc("observability", "ClusterIP")}
	count(observability.deny) == 0 with input as {"resource": svc("shop", "LoadBalancer")} # not an ops UI
	count(observability.deny) == 0 with input as {"resource": app({"grafana": {"service": {"type": "ClusterIP"}, "ingress": {"enabled": false}}})}
}

test_ui_cluster_ip_only_fail if {
	some v in observability.deny with input as {"resource": svc("n8n", "NodePort")}
	v.rule == "ui-cluster-ip-only"
	some w in observability.deny with input as {"resource": app({"grafana": {"service": {"type": "LoadBalancer"}}})}
	w.field == "spec.source.helm.valuesObject.grafana.service.type"
	some x in observability.deny with input as {"resource": app({"prometheus": {"ingress": {"enabled": true}}})}
	x.rule == "ui-cluster-ip-only"
	some y in observability.deny with input as {"resource": {"kind": "Ingress", "metadata": {"name": "grafana", "namespace": "observability"}}}
	y.rule == "ui-cluster-ip-only"
}
