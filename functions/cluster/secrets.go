package cluster

import (
	eks "github.com/upbound/provider-aws/v2/apis/namespaced/eks/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// secretsPrefix names the Secrets Manager secrets of the platform's own
// workloads (platform/secrets): External Secrets may touch these and no
// others.
const secretsPrefix = "unsilo/"

// externalSecrets composes External Secrets' role and its Pod Identity
// association (external-secrets/external-secrets): it reads the platform's
// secrets, and creates and writes the ones the platform generates
// (PushSecret, once: tokens, passwords, n8n's key). The account is the
// cluster's own (a role's policy cannot reach another account's secrets
// without their resource policy), so the ARN leaves it open.
func (b *builder) externalSecrets() {
	arn := "arn:aws:secretsmanager:" + b.region + ":" + b.spec.AccountID + ":secret:" + secretsPrefix + "*"
	b.role("role-external-secrets", "pods.eks.amazonaws.com", nil, []statement{
		{Sid: "ReadPlatformSecrets", Effect: "Allow", Resource: []string{arn},
			Action: []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds", "secretsmanager:GetResourcePolicy"}},
		{Sid: "WriteGeneratedSecrets", Effect: "Allow", Resource: []string{arn},
			Action: []string{"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:TagResource"}},
	})
	if _, ok := b.out.Resources["cluster"]; !ok {
		return
	}
	b.out.Add("pod-identity-external-secrets", &eks.PodIdentityAssociation{
		ObjectMeta: b.meta("pod-identity-external-secrets"),
		Spec: eks.PodIdentityAssociationSpec{ForProvider: eks.PodIdentityAssociationParameters_2{
			Region:              b.regionPtr(),
			ClusterNameSelector: ref("cluster"),
			Namespace:           compose.Ptr("external-secrets"),
			ServiceAccount:      compose.Ptr("external-secrets"),
			RoleArnSelector:     ref("role-external-secrets"),
			Tags:                b.tag.Tags("pod-identity-external-secrets"),
		}},
	})
}
