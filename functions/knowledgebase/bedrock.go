package knowledgebase

import (
	"cmp"
	"strings"

	eks "github.com/upbound/provider-aws/v2/apis/namespaced/eks/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/cluster"
	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/network"
)

// ragAPIAccess composes the role rag-api runs as: Converse and
// ConverseStream (bedrock:InvokeModel*) on the listed models only, and
// Retrieve/Query on this index only, bound to rag-api's service account.
// Bedrock Guardrails have no provider kind at provider-aws v2.5.0: rag-api
// takes the guardrail id from its config and passes it on every call.
func (b *builder) ragAPIAccess() {
	invoke := []string{"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}
	statements := []map[string]any{{"Sid": "ConverseWithAllowedModels", "Effect": "Allow", "Action": invoke, "Resource": b.spec.Bedrock.ModelARNs}}
	if routed := profileModels(b.spec.Bedrock.ModelARNs); len(routed) > 0 {
		// A cross-region inference profile forwards the call to its model in
		// whichever region has capacity; IAM checks that model ARN too, so it
		// is allowed in any region but only when reached through a listed
		// profile, never directly.
		statements = append(statements, map[string]any{"Sid": "ModelsBehindProfiles", "Effect": "Allow", "Action": invoke, "Resource": routed,
			"Condition": map[string]any{"StringLike": map[string]any{"bedrock:InferenceProfileArn": profiles(b.spec.Bedrock.ModelARNs)}}})
	}
	if g := b.spec.Bedrock.GuardrailARN; g != "" {
		statements = append(statements, map[string]any{"Sid": "ApplyGuardrail", "Effect": "Allow", "Action": []string{"bedrock:ApplyGuardrail"}, "Resource": g})
	}
	if arn := b.req.AtProvider("index", "arn"); arn != "" {
		statements = append(statements, map[string]any{"Sid": "SearchIndex", "Effect": "Allow", "Action": []string{"kendra:Retrieve", "kendra:Query"}, "Resource": arn})
	}
	b.out.Add("rag-api-role", &iam.Role{
		ObjectMeta: compose.Meta(b.req.XR, "rag-api-role", nil),
		Spec: iam.RoleSpec{ForProvider: iam.RoleParameters{
			AssumeRolePolicy: compose.Ptr(trust("pods.eks.amazonaws.com", "sts:AssumeRole", "sts:TagSession")),
			InlinePolicy:     []iam.InlinePolicyParameters{{Name: compose.Ptr("rag-api"), Policy: compose.Ptr(doc(statements...))}},
			Tags:             b.tag.Tags("rag-api-role"),
		}},
	})
}

// podIdentity binds rag-api's service account on the referenced Cluster to
// the role: the association lives in the cluster's region (its Network's),
// which need not be the index's, and names the EKS cluster the Cluster XR
// composes.
func (b *builder) podIdentity() error {
	p := b.spec.PodIdentity
	if p == nil {
		return nil
	}
	ns := cmp.Or(p.ClusterRef.Namespace, b.req.XR.Resource.GetNamespace())
	region := p.Region
	if region == "" {
		r, ok, err := b.clusterRegion(ns)
		if !ok || err != nil {
			return err
		}
		region = r
	}
	b.out.Add("rag-api-pod-identity", &eks.PodIdentityAssociation{
		ObjectMeta: compose.Meta(b.req.XR, "rag-api-pod-identity", nil),
		Spec: eks.PodIdentityAssociationSpec{ForProvider: eks.PodIdentityAssociationParameters_2{
			Region: compose.Ptr(region), ClusterName: compose.Ptr(cluster.EKSName(ns, p.ClusterRef.Name)),
			Namespace: compose.Ptr(p.Namespace), ServiceAccount: compose.Ptr(p.ServiceAccount),
			RoleArnSelector: ref("rag-api-role"), Tags: b.tag.Tags("rag-api-pod-identity"),
		}},
	})
	return nil
}

// clusterRegion is the region of the referenced Cluster's Network, fetched
// from this control plane.
func (b *builder) clusterRegion(ns string) (string, bool, error) {
	p := b.spec.PodIdentity
	cl, ok, err := b.out.Resolve(b.req, compose.Reference{Key: "cluster", Kind: "Cluster", Namespace: ns, Name: p.ClusterRef.Name, Field: "spec.podIdentity.clusterRef.name"})
	if !ok || err != nil {
		return "", ok, err
	}
	netName, _, _ := unstructured.NestedString(cl.Object, "spec", "networkRef", "name")
	net, ok, err := network.Resolve(b.out, b.req, "cluster-network", ns, netName, "spec.podIdentity.clusterRef.name")
	if !ok || err != nil {
		return "", ok, err
	}
	return net.Region, true, nil
}

// crossRegionPrefixes are the geography prefixes of system-defined
// cross-region inference profile ids (apac.anthropic.claude-...).
var crossRegionPrefixes = []string{"us.", "eu.", "apac.", "us-gov.", "jp.", "au.", "ca.", "global."}

func profiles(arns []string) []string {
	var out []string
	for _, a := range arns {
		if strings.Contains(a, ":inference-profile/") {
			out = append(out, a)
		}
	}
	return out
}

// profileModels lists, for each system-defined inference profile, its
// foundation model in every region (the region the call lands in is AWS's
// choice). Application inference profiles name no model in their ARN; the
// operator lists the model itself.
func profileModels(arns []string) []string {
	var out []string
	for _, p := range profiles(arns) {
		partition := strings.SplitN(p, ":", 3)[1]
		id := p[strings.Index(p, ":inference-profile/")+len(":inference-profile/"):]
		for _, prefix := range crossRegionPrefixes {
			if model, ok := strings.CutPrefix(id, prefix); ok {
				out = append(out, "arn:"+partition+":bedrock:*::foundation-model/"+model)
				break
			}
		}
	}
	return out
}
