package cluster

import (
	"encoding/json"

	eks "github.com/upbound/provider-aws/v2/apis/namespaced/eks/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// statement is one IAM policy statement.
type statement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

func policy(sts []statement) string {
	j, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": sts}) // plain structs always marshal
	return string(j)
}

// role composes an IAM role a service assumes, with managed policies and
// an inline least-privilege policy.
func (b *builder) role(name, service string, managed []string, inline []statement) {
	actions := []string{"sts:AssumeRole"}
	if service == "pods.eks.amazonaws.com" {
		actions = append(actions, "sts:TagSession") // Pod Identity tags the session
	}
	trust, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect": "Allow", "Action": actions, "Principal": map[string]any{"Service": service},
		}},
	})
	r := &iam.Role{
		ObjectMeta: b.meta(name),
		Spec: iam.RoleSpec{ForProvider: iam.RoleParameters{
			AssumeRolePolicy: compose.Ptr(string(trust)),
			Description:      compose.Ptr(name + " of " + b.clusterName()),
			Tags:             b.tag.Tags(name),
		}},
	}
	if len(inline) > 0 {
		r.Spec.ForProvider.InlinePolicy = []iam.InlinePolicyParameters{{Name: compose.Ptr("least-privilege"), Policy: compose.Ptr(policy(inline))}}
	}
	b.out.Add(name, r)
	for i, arn := range managed {
		att := name + "-managed-" + string(rune('a'+i))
		b.out.Add(att, &iam.RolePolicyAttachment{
			ObjectMeta: b.meta(att),
			Spec: iam.RolePolicyAttachmentSpec{ForProvider: iam.RolePolicyAttachmentParameters{
				PolicyArn: compose.Ptr(arn), RoleSelector: ref(name),
			}},
		})
	}
}

// workload is a platform workload that gets its own role.
type workload struct {
	name, namespace, serviceAccount string
	statements                      []statement
}

// crossplaneServices are the AWS services the platform's compositions
// manage; the providers get those and nothing else.
var crossplaneServices = []string{"ec2", "s3", "iam", "rds", "elasticloadbalancing", "autoscaling", "cloudfront", "wafv2", "firehose", "glue", "athena", "cloudtrail", "kms", "kendra", "eks", "secretsmanager", "acm", "logs"}

func (b *builder) workloadList() []workload {
	w := b.spec.Workloads
	var xp []string
	for _, s := range crossplaneServices {
		xp = append(xp, s+":*")
	}
	out := []workload{
		{"crossplane", "crossplane-system", "provider-aws", []statement{{Sid: "ManagePlatformServices", Effect: "Allow", Action: xp, Resource: []string{"*"}}}},
		{"alert-bridge", "observability", "alert-bridge", b.alertBridgeStatements()}, // alertqueue.go
	}
	lake := []string{}
	if w.LakeBucketARN != "" {
		lake = []string{w.LakeBucketARN, w.LakeBucketARN + "/*"}
	}
	fb := workload{name: "fluent-bit", namespace: "observability", serviceAccount: "fluent-bit"}
	ls := workload{name: "log-shipper", namespace: "lake", serviceAccount: "log-shipper"}
	if len(lake) > 0 {
		fb.statements = append(fb.statements, statement{Sid: "WriteContainerLogs", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{w.LakeBucketARN + "/container/*"}})
		ls.statements = append(ls.statements, statement{Sid: "ReadRawLogs", Effect: "Allow", Action: []string{"s3:GetObject", "s3:ListBucket"}, Resource: lake})
	}
	if c := w.CuratedBucketARN; c != "" {
		ls.statements = append(ls.statements, statement{Sid: "WriteParquet", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:ListBucket"}, Resource: []string{c, c + "/*"}})
	}
	if k := w.LakeKeyARN; k != "" {
		// The lake's buckets are SSE-KMS: reading and writing objects uses the key.
		ls.statements = append(ls.statements, statement{Sid: "UseLakeKey", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: []string{k}})
	}
	if w.AthenaWorkgroup != "" {
		ls.statements = append(ls.statements, statement{Sid: "QueryLake", Effect: "Allow",
			Action:   []string{"athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"},
			Resource: []string{w.AthenaWorkgroup}})
	}
	// rag-api's role lives with its index: the KnowledgeBase API composes it
	// and its Pod Identity association (spec.podIdentity).
	return append(out, fb, ls)
}

// workloads composes each workload's role and its Pod Identity association
// (namespace + service account -> role), once the cluster exists.
func (b *builder) workloads() {
	for _, w := range b.workloadList() {
		role := "role-" + w.name
		b.role(role, "pods.eks.amazonaws.com", nil, w.statements)
		if _, ok := b.out.Resources["cluster"]; !ok {
			continue
		}
		assoc := "pod-identity-" + w.name
		b.out.Add(assoc, &eks.PodIdentityAssociation{
			ObjectMeta: b.meta(assoc),
			Spec: eks.PodIdentityAssociationSpec{ForProvider: eks.PodIdentityAssociationParameters_2{
				Region:              b.regionPtr(),
				ClusterNameSelector: ref("cluster"),
				Namespace:           compose.Ptr(w.namespace),
				ServiceAccount:      compose.Ptr(w.serviceAccount),
				RoleArnSelector:     ref(role),
				Tags:                b.tag.Tags(assoc),
			}},
		})
	}
}
