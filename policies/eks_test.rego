package unsilo.eks_test

import data.unsilo.eks
import rego.v1

base := {
	"vpcConfig": {"endpointPublicAccess": true, "publicAccessCidrs": ["203.0.113.0/24"]},
	"encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": "arn:aws:kms:x"}},
	"enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
}

# fp replaces base's top-level fields whole.
cluster(fp) := {"apiVersion": "eks.aws.m.upbound.io/v1beta1", "kind": "Cluster", "spec": {"forProvider": object.union(object.remove(base, object.keys(fp)), fp)}}

rules(fp) := {v.rule | some v in eks.deny with input as {"resource": cluster(fp)}}

test_eks_endpoint_not_world_pass if {
	count(rules({})) == 0
	count(rules({"vpcConfig": {"endpointPublicAccess": false}})) == 0
}

test_eks_endpoint_not_world_fail if {
	"eks-endpoint-not-world" in rules({"vpcConfig": {"endpointPublicAccess": true, "publicAccessCidrs": ["0.0.0.0/0"]}})
	"eks-endpoint-not-world" in rules({"vpcConfig": {"endpointPublicAccess": true}})
}

test_eks_secrets_encrypted_pass if {
	not "eks-secrets-encrypted" in rules({})
}

test_eks_secrets_encrypted_fail if {
	"eks-secrets-encrypted" in rules({"encryptionConfig": {}})
}

test_eks_control_plane_logs_pass if {
	not "eks-control-plane-logs" in rules({})
}

test_eks_control_plane_logs_fail if {
	"eks-control-plane-logs" in rules({"enabledClusterLogTypes": ["api"]})
}
