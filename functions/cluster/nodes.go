package cluster

import (
	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"
	eks "github.com/upbound/provider-aws/v2/apis/namespaced/eks/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

var nodePolicies = []string{
	"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
	"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
	"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
	"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
}

// nodes composes a launch template (IMDSv2 only, encrypted gp3 root) and a
// managed node group per spec.nodeGroups entry, in the private subnets.
func (b *builder) nodes() {
	b.role("node-role", "ec2.amazonaws.com", nodePolicies, nil)
	for _, g := range b.spec.NodeGroups {
		lt := "launch-template-" + g.Name
		ltName := compose.ShortName(b.req.XR, lt, 128)
		b.out.Add(lt, &ec2.LaunchTemplate{
			ObjectMeta: b.meta(lt),
			Spec: ec2.LaunchTemplateSpec{ForProvider: ec2.LaunchTemplateParameters_2{
				Region:               b.regionPtr(),
				Name:                 compose.Ptr(ltName),
				UpdateDefaultVersion: compose.Ptr(true),
				MetadataOptions: &ec2.LaunchTemplateMetadataOptionsParameters{
					HTTPEndpoint: compose.Ptr("enabled"), HTTPTokens: compose.Ptr("required"),
					// Pods reach credentials through Pod Identity, not the
					// node's metadata service: one hop keeps them out.
					HTTPPutResponseHopLimit: compose.Ptr(1.0),
				},
				BlockDeviceMappings: []ec2.BlockDeviceMappingsParameters{{
					DeviceName: compose.Ptr("/dev/xvda"),
					EBS: &ec2.EBSParameters{
						Encrypted: compose.Ptr("true"), VolumeType: compose.Ptr("gp3"),
						VolumeSize: compose.Ptr(float64(g.DiskGiB)), DeleteOnTermination: compose.Ptr("true"),
					},
				}},
				Tags: b.tag.Tags(lt),
			}},
		})
		if _, ok := b.out.Resources["cluster"]; !ok {
			continue // node groups need the cluster, which waits for its key
		}
		// EKS stores the number of the version it launched from and reads
		// it back: "$Latest" would differ on every poll and never settle,
		// and a new template version would never roll the nodes. Pin the
		// template's current number; a new version rolls the group.
		version := b.req.AtProviderNumber(lt, "latestVersion")
		if version == "" {
			b.out.Defer("nodegroup-"+g.Name, "the latestVersion of "+lt)
			continue
		}
		var types []*string
		for _, t := range g.InstanceTypes {
			types = append(types, compose.Ptr(t))
		}
		ng := "nodegroup-" + g.Name
		b.out.Add(ng, &eks.NodeGroup{
			ObjectMeta: b.meta(ng),
			Spec: eks.NodeGroupSpec{ForProvider: eks.NodeGroupParameters{
				Region:              b.regionPtr(),
				ClusterNameSelector: ref("cluster"),
				NodeRoleArnSelector: ref("node-role"),
				SubnetIDSelector:    b.privateSubnets(),
				InstanceTypes:       types,
				CapacityType:        compose.Ptr(g.CapacityType),
				AMIType:             compose.Ptr(g.AMIType),
				ScalingConfig: &eks.ScalingConfigParameters{
					MinSize: compose.Ptr(float64(g.Min)), MaxSize: compose.Ptr(float64(g.Max)),
				},
				LaunchTemplate: &eks.LaunchTemplateParameters{Name: compose.Ptr(ltName), Version: compose.Ptr(version)},
				Tags:           b.tag.Tags(ng),
			},
				// The desired size is the cluster autoscaler's once the group
				// runs: set at creation only (initProvider is left out of
				// updates), so a poll never undoes a scale-out.
				InitProvider: eks.NodeGroupInitParameters{ScalingConfig: &eks.ScalingConfigInitParameters{DesiredSize: compose.Ptr(float64(g.Desired))}},
			},
		})
	}
}

func (b *builder) addons() {
	if _, ok := b.out.Resources["cluster"]; !ok {
		return
	}
	for _, a := range addons {
		name := "addon-" + a
		var config *string
		if a == "aws-ebs-csi-driver" {
			// EKS creates no StorageClass since Kubernetes 1.30: the add-on
			// makes a default gp3 one, or every PersistentVolumeClaim of the
			// platform (n8n, Postgres, log-shipper, alert-bridge) stays Pending.
			config = compose.Ptr(`{"defaultStorageClass":{"enabled":true}}`)
		}
		b.out.Add(name, &eks.Addon{
			ObjectMeta: b.meta(name),
			Spec: eks.AddonSpec{ForProvider: eks.AddonParameters{
				Region:                   b.regionPtr(),
				ClusterNameSelector:      ref("cluster"),
				AddonName:                compose.Ptr(a),
				ConfigurationValues:      config,
				ResolveConflictsOnCreate: compose.Ptr("OVERWRITE"),
				ResolveConflictsOnUpdate: compose.Ptr("PRESERVE"),
				Tags:                     b.tag.Tags(name),
			}},
		})
	}
}

// access grants the admin role cluster-admin and the CI role read-only
// access (AmazonEKSViewPolicy: no Secrets, no writes; Argo CD deploys, CI
// only diffs) through EKS access entries (API authentication mode: no
// aws-auth map).
func (b *builder) access() {
	if _, ok := b.out.Resources["cluster"]; !ok {
		return
	}
	for _, a := range []struct{ name, arn, policy string }{
		{"admin", b.spec.Access.AdminRoleARN, "AmazonEKSClusterAdminPolicy"},
		{"ci", b.spec.Access.CIRoleARN, "AmazonEKSViewPolicy"},
	} {
		if a.arn == "" {
			continue
		}
		entry := "access-" + a.name
		b.out.Add(entry, &eks.AccessEntry{
			ObjectMeta: b.meta(entry),
			Spec: eks.AccessEntrySpec{ForProvider: eks.AccessEntryParameters{
				Region: b.regionPtr(), ClusterNameSelector: ref("cluster"), PrincipalArn: compose.Ptr(a.arn),
				Type: compose.Ptr("STANDARD"), Tags: b.tag.Tags(entry),
			}},
		})
		pol := entry + "-policy"
		b.out.Add(pol, &eks.AccessPolicyAssociation{
			ObjectMeta: b.meta(pol),
			Spec: eks.AccessPolicyAssociationSpec{ForProvider: eks.AccessPolicyAssociationParameters{
				Region: b.regionPtr(), ClusterNameSelector: ref("cluster"), PrincipalArn: compose.Ptr(a.arn),
				PolicyArn:   compose.Ptr("arn:aws:eks::aws:cluster-access-policy/" + a.policy),
				AccessScope: &eks.AccessScopeParameters{Type: compose.Ptr("cluster")},
			}},
		})
	}
}
