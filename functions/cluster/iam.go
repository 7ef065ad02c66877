package cluster

import (
	"encoding/json"

	eks "github.com/upbound/provider-aws/v2/apis/namespaced/eks/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/controlplane"
)

// statement is one IAM policy statement.
type statement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

func policy(sts []statement) string {
	j, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": sts}) // plain structs always marshal
	return string(j)
}

// RolePath is the IAM path of every role the platform creates: the
// Crossplane provider may change and pass only roles under it.
const RolePath = controlplane.RolePath

// providerRole is the Crossplane provider's role, at providerPath.
const (
	providerRole = "role-crossplane"
	providerPath = controlplane.ProviderPath
)

// boundaryName is the permissions boundary of every role the platform
// creates, this Cluster's and those of the XRs it manages
// (controlplane.Resolve): whatever policy a role is given, it can never
// touch IAM, Organizations or the account, nor schedule a key's deletion.
func (b *builder) boundaryName() string {
	return controlplane.BoundaryName(b.req.XR.Resource.GetNamespace(), b.req.XR.Resource.GetName())
}

func (b *builder) boundaryARN() string {
	return controlplane.BoundaryARN(b.spec.AccountID, b.req.XR.Resource.GetNamespace(), b.req.XR.Resource.GetName())
}

// boundaryActions is the ceiling: the services the cluster's, nodes',
// workloads' and the other XRs' roles (AWS's managed policies included)
// use, and of IAM only
// the service-linked roles AmazonEKSClusterPolicy may create. Anything
// else, IAM above all, no role under the boundary can do, whatever policy
// it is given.
var boundaryActions = []string{
	"ec2:*", "ecr:*", "eks:*", "eks-auth:*", "elasticloadbalancing:*", "autoscaling:*", "ssm:*", "ssmmessages:*", "ec2messages:*",
	"s3:*", "kms:*", "logs:*", "cloudwatch:*", "athena:*", "glue:*", "sqs:*", "kendra:*", "rds:*", "cloudfront:*", "wafv2:*",
	"firehose:*", "cloudtrail:*", "cloudformation:*", "iam:CreateServiceLinkedRole",
	// rag-api's answers (KnowledgeBase's rag-api role) and the connector
	// and instance secrets (Kendra Drive/Gmail, WebPortal's database):
	// these actions only, not the services whole.
	"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "bedrock:ApplyGuardrail", "secretsmanager:GetSecretValue",
	// External Secrets (secrets.go): reads the platform's secrets and
	// writes the ones the platform generates, under unsilo/ only.
	"secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds", "secretsmanager:GetResourcePolicy",
	"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:TagResource",
}

func (b *builder) boundary() {
	b.out.Add("permissions-boundary", &iam.Policy{
		ObjectMeta: b.namedMeta("permissions-boundary", b.boundaryName()),
		Spec: iam.PolicySpec{ForProvider: iam.PolicyParameters{
			Path:        compose.Ptr(RolePath),
			Description: compose.Ptr("Ceiling of every role " + b.clusterName() + " creates"),
			Policy:      compose.Ptr(policy([]statement{{Sid: "Ceiling", Effect: "Allow", Action: boundaryActions, Resource: []string{"*"}}})),
			Tags:        b.tag.Tags("permissions-boundary"),
		}},
	})
}

// role composes an IAM role a service assumes, under RolePath and within
// the boundary, with managed policies and an inline least-privilege policy.
//
// The provider's own role is the exception (providerRole): it creates the
// others, so it lives outside RolePath, where its policy cannot change it.
func (b *builder) role(name, service string, managed []string, inline []statement) {
	actions := []string{"sts:AssumeRole"}
	trust := map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": service}}
	if service == "pods.eks.amazonaws.com" {
		// Pod Identity tags the session; only this account's cluster may
		// assume the role (the confused-deputy guard AWS documents).
		actions = append(actions, "sts:TagSession")
		trust["Condition"] = map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": b.spec.AccountID},
			"ArnEquals":    map[string]any{"aws:SourceArn": "arn:aws:eks:" + b.region + ":" + b.spec.AccountID + ":cluster/" + b.clusterName()},
		}
	}
	trust["Action"] = actions
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{trust}})
	r := &iam.Role{
		ObjectMeta: b.meta(name),
		Spec: iam.RoleSpec{ForProvider: iam.RoleParameters{
			AssumeRolePolicy:    compose.Ptr(string(doc)),
			Description:         compose.Ptr(name + " of " + b.clusterName()),
			Path:                compose.Ptr(RolePath),
			PermissionsBoundary: compose.Ptr(b.boundaryARN()),
			Tags:                b.tag.Tags(name),
		}},
	}
	if len(inline) > 0 {
		r.Spec.ForProvider.InlinePolicy = []iam.InlinePolicyParameters{{Name: compose.Ptr("least-privilege"), Policy: compose.Ptr(policy(inline))}}
	}
	if name == providerRole {
		r.Spec.ForProvider.Path = compose.Ptr(providerPath)
		r.Spec.ForProvider.PermissionsBoundary = nil
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
	managed                         []string
}

// crossplaneServices are the AWS services whose resources the platform's
// compositions create and delete; the providers manage them whole. IAM and
// KMS are not among them: see crossplaneStatements.
var crossplaneServices = []string{"ec2", "s3", "rds", "elasticloadbalancing", "autoscaling", "cloudfront", "wafv2", "firehose", "glue", "athena", "cloudtrail", "kendra", "eks", "logs", "cloudformation", "lambda", "apigateway"}

// passedTo are the services the platform hands its roles to.
var passedTo = []string{"eks.amazonaws.com", "ec2.amazonaws.com", "pods.eks.amazonaws.com", "glue.amazonaws.com", "firehose.amazonaws.com", "kendra.amazonaws.com", "lambda.amazonaws.com"}

// crossplaneStatements is the provider's policy: the managed services
// whole; IAM only for roles and policies under RolePath, created only
// within the boundary and passed only to the services above; KMS keys
// managed without any use of their data (no Decrypt, Encrypt, data keys).
func (b *builder) crossplaneStatements() []statement {
	var xp []string
	for _, s := range crossplaneServices {
		xp = append(xp, s+":*")
	}
	acct := b.spec.AccountID
	roles := "arn:aws:iam::" + acct + ":role" + RolePath + "*"
	policies := "arn:aws:iam::" + acct + ":policy" + RolePath + "*"
	profiles := "arn:aws:iam::" + acct + ":instance-profile" + RolePath + "*"
	withBoundary := map[string]map[string]any{"StringEquals": {"iam:PermissionsBoundary": b.boundaryARN()}}
	return []statement{
		{Sid: "ManagePlatformServices", Effect: "Allow", Action: xp, Resource: []string{"*"}},
		{Sid: "CreateRolesWithinBoundary", Effect: "Allow", Action: []string{"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"},
			Resource: []string{roles}, Condition: withBoundary},
		{Sid: "ManagePlatformRoles", Effect: "Allow", Action: []string{
			"iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:TagRole", "iam:UntagRole",
			"iam:GetRolePolicy", "iam:ListRolePolicies", "iam:DeleteRolePolicy", "iam:ListAttachedRolePolicies", "iam:DetachRolePolicy",
			"iam:ListInstanceProfilesForRole",
		}, Resource: []string{roles}},
		{Sid: "ManagePlatformPolicies", Effect: "Allow", Action: []string{
			"iam:CreatePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:CreatePolicyVersion",
			"iam:DeletePolicyVersion", "iam:DeletePolicy", "iam:TagPolicy", "iam:UntagPolicy",
		}, Resource: []string{policies}},
		{Sid: "ManageInstanceProfiles", Effect: "Allow", Action: []string{
			"iam:CreateInstanceProfile", "iam:GetInstanceProfile", "iam:DeleteInstanceProfile", "iam:AddRoleToInstanceProfile",
			"iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile",
		}, Resource: []string{profiles}},
		{Sid: "PassPlatformRoles", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: []string{roles},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": passedTo}}},
		{Sid: "ServiceLinkedRoles", Effect: "Allow", Action: []string{"iam:CreateServiceLinkedRole"}, Resource: []string{"arn:aws:iam::" + acct + ":role/aws-service-role/*"}},
		{Sid: "ManageKeysNotData", Effect: "Allow", Action: []string{
			"kms:CreateKey", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus", "kms:EnableKeyRotation",
			"kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion", "kms:ListAliases",
		}, Resource: []string{"*"}},
		{Sid: "GrantKeysToServices", Effect: "Allow", Action: []string{"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"}, Resource: []string{"*"},
			Condition: map[string]map[string]any{"Bool": {"kms:GrantIsForAWSResource": "true"}}},
	}
}

func (b *builder) workloadList() []workload {
	w := b.spec.Workloads
	out := []workload{
		{name: "crossplane", namespace: "crossplane-system", serviceAccount: "provider-aws", statements: b.crossplaneStatements()},
		{name: "alert-bridge", namespace: "observability", serviceAccount: "alert-bridge", statements: b.alertBridgeStatements()}, // alertqueue.go: nothing unless its outbox is SQS
		// Fluent Bit ships to log-shipper over HTTP (platform/logging): an
		// identity, no AWS access.
		{name: "fluent-bit", namespace: "observability", serviceAccount: "fluent-bit"},
		// The EBS CSI controller creates, attaches and deletes the volumes
		// of every PersistentVolumeClaim, with AWS's managed policy for it.
		{name: "ebs-csi", namespace: "kube-system", serviceAccount: "ebs-csi-controller-sa", managed: []string{"arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"}},
	}
	return append(out, workload{name: "log-shipper", namespace: "lake", serviceAccount: "log-shipper", statements: logShipper(w, b.region, b.spec.AccountID)})
}

// logShipper is what apps/log-shipper calls (its recorded contracts,
// contracts/log-shipper/*.json): reads the raw and ALB zones, writes
// Parquet to the curated zone, consumes the ingest queue (watch), queries
// through Athena, which reads the Glue tables and writes results under the
// curated bucket.
func logShipper(w Workloads, region, acct string) []statement {
	var out []statement
	if r := w.LakeBucketARN; r != "" {
		out = append(out, statement{Sid: "ReadRawLogs", Effect: "Allow", Action: []string{"s3:GetObject", "s3:ListBucket"}, Resource: []string{r, r + "/*"}})
	}
	if a := w.ALBBucketARN; a != "" {
		out = append(out, statement{Sid: "ReadALBLogs", Effect: "Allow", Action: []string{"s3:GetObject", "s3:ListBucket"}, Resource: []string{a, a + "/*"}})
	}
	if c := w.CuratedBucketARN; c != "" {
		out = append(out, statement{Sid: "WriteParquet", Effect: "Allow",
			Action:   []string{"s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
			Resource: []string{c, c + "/*"}})
	}
	if q := w.IngestQueueARN; q != "" {
		// watch: receive, keep hidden while ingesting, delete when committed
		// (the batch calls are authorised as these; contracts/log-shipper/watch.json).
		out = append(out, statement{Sid: "ConsumeIngestQueue", Effect: "Allow",
			Action: []string{"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"}, Resource: []string{q}})
	}
	if k := w.LakeKeyARN; k != "" {
		// The lake's buckets and its ingest queue are SSE-KMS with this key:
		// reading and writing objects, and receiving from the queue, use it.
		out = append(out, statement{Sid: "UseLakeKey", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: []string{k}})
	} else if w.IngestQueueARN != "" || w.LakeBucketARN != "" || w.CuratedBucketARN != "" {
		// An environment's settings cannot know the lake key's id before it
		// exists: the role may use the account's keys in the cluster's
		// region only when S3 or SQS asks on its behalf, so it reaches no
		// key but those of the objects and the queue it may already read.
		out = append(out, statement{Sid: "UseLakeKeyViaS3AndSQS", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:GenerateDataKey"},
			Resource:  []string{"arn:aws:kms:" + region + ":" + acct + ":key/*"},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": []string{"s3." + region + ".amazonaws.com", "sqs." + region + ".amazonaws.com"}}}})
	}
	if w.AthenaWorkgroup != "" {
		out = append(out, statement{Sid: "QueryLake", Effect: "Allow",
			Action:   []string{"athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"},
			Resource: []string{w.AthenaWorkgroup}})
	}
	if db := w.GlueDatabase; db != "" {
		glue := "arn:aws:glue:" + region + ":" + acct + ":"
		out = append(out, statement{Sid: "ReadCatalog", Effect: "Allow",
			Action:   []string{"glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"},
			Resource: []string{glue + "catalog", glue + "database/" + db, glue + "table/" + db + "/*"}})
	}
	return out
}

// workloads composes each workload's role and its Pod Identity association
// (namespace + service account -> role), once the cluster exists.
func (b *builder) workloads() {
	for _, w := range b.workloadList() {
		role := "role-" + w.name
		b.role(role, "pods.eks.amazonaws.com", w.managed, w.statements)
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
