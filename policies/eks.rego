# EKS: the API endpoint is never open to the whole internet, secrets are
# envelope-encrypted and every control-plane log is on.
package unsilo.eks

import data.unsilo.lib
import rego.v1

all_logs := {"api", "audit", "authenticator", "controllerManager", "scheduler"}

cluster(r) if {
	r.kind == "Cluster"
	startswith(r.apiVersion, "eks.")
}

deny contains v if {
	r := input.resource
	cluster(r)
	vpc := object.get(lib.for_provider(r), "vpcConfig", {})
	object.get(vpc, "endpointPublicAccess", true) == true
	some c in object.get(vpc, "publicAccessCidrs", ["0.0.0.0/0"])
	c in lib.world_cidrs
	v := {
		"rule": "eks-endpoint-not-world",
		"field": "spec.forProvider.vpcConfig.publicAccessCidrs",
		"msg": "the cluster's API endpoint is open to the whole internet",
		"fix": "list office or VPN ranges in spec.endpoint.publicAccessCidrs, or none for a private endpoint",
	}
}

deny contains v if {
	r := input.resource
	cluster(r)
	not "secrets" in object.get(lib.for_provider(r), ["encryptionConfig", "resources"], [])
	v := {
		"rule": "eks-secrets-encrypted",
		"field": "spec.forProvider.encryptionConfig",
		"msg": "Kubernetes secrets are not envelope-encrypted with a KMS key",
		"fix": "set encryptionConfig with a KMS key ARN and resources: [secrets]",
	}
}

deny contains v if {
	r := input.resource
	cluster(r)
	missing := all_logs - {l | some l in object.get(lib.for_provider(r), "enabledClusterLogTypes", [])}
	count(missing) > 0
	v := {
		"rule": "eks-control-plane-logs",
		"field": "spec.forProvider.enabledClusterLogTypes",
		"msg": sprintf("control-plane logs %v are off", [sort(missing)]),
		"fix": "enable all five log types",
	}
}
