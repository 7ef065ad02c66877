package cluster

import (
	"github.com/crossplane/function-sdk-go/resource"
	eks "github.com/upbound/provider-aws/v2/apis/namespaced/eks/v1beta1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"
	kms "github.com/upbound/provider-aws/v2/apis/namespaced/kms/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// usages order deletion: EKS needs its role to clean up the cluster's
// network interfaces, node groups need their role, policies and launch
// template to drain and terminate nodes, everything inside the cluster
// needs the cluster, and the cluster needs its key to the end. Without
// them Crossplane deletes all at once and AWS leaves the cluster or the
// nodes half-deleted behind a role that no longer exists.
func (b *builder) usages() {
	use := func(by string, byKind schema.GroupVersionKind, of string, ofKind schema.GroupVersionKind, reason string) {
		if _, ok := b.out.Resources[resource.Name(by)]; !ok {
			return
		}
		b.out.Use(b.req, compose.Dependency{By: by, ByKind: byKind, Of: of, OfKind: ofKind, Reason: reason})
	}
	att := iam.RolePolicyAttachment_GroupVersionKind
	use("cluster", eks.Cluster_GroupVersionKind, "cluster-role", iam.Role_GroupVersionKind, "EKS deletes the cluster's network interfaces as this role")
	use("cluster", eks.Cluster_GroupVersionKind, "cluster-role-managed-a", att, "the cluster role needs AmazonEKSClusterPolicy until the cluster is gone")
	use("cluster", eks.Cluster_GroupVersionKind, "secrets-key", kms.Key_GroupVersionKind, "the cluster's secrets are encrypted with this key")
	for _, g := range b.spec.NodeGroups {
		ng := "nodegroup-" + g.Name
		use(ng, eks.NodeGroup_GroupVersionKind, "cluster", eks.Cluster_GroupVersionKind, "the node group runs in the cluster")
		use(ng, eks.NodeGroup_GroupVersionKind, "node-role", iam.Role_GroupVersionKind, "nodes drain and terminate as this role")
		for i := range nodePolicies {
			use(ng, eks.NodeGroup_GroupVersionKind, "node-role-managed-"+string(rune('a'+i)), att, "nodes need their managed policies until they are gone")
		}
		use(ng, eks.NodeGroup_GroupVersionKind, "launch-template-"+g.Name, ec2.LaunchTemplate_GroupVersionKind, "the node group launches from this template")
	}
	for _, a := range addons {
		use("addon-"+a, eks.Addon_GroupVersionKind, "cluster", eks.Cluster_GroupVersionKind, "the add-on runs in the cluster")
	}
	for _, w := range b.workloadList() {
		use("pod-identity-"+w.name, eks.PodIdentityAssociation_GroupVersionKind, "cluster", eks.Cluster_GroupVersionKind, "the association belongs to the cluster")
	}
	b.out.UseComposite(b.req, "Network", b.spec.NetworkRef.Name, "the cluster's nodes and endpoints live in the Network's private subnets")
}
