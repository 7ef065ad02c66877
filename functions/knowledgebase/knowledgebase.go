package knowledgebase

import (
	"context"
	"encoding/json"

	apigw "github.com/upbound/provider-aws/v2/apis/namespaced/apigatewayv2/v1beta1"
	logs "github.com/upbound/provider-aws/v2/apis/namespaced/cloudwatchlogs/v1beta1"
	eks "github.com/upbound/provider-aws/v2/apis/namespaced/eks/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"
	kendra "github.com/upbound/provider-aws/v2/apis/namespaced/kendra/v1beta1"
	kms "github.com/upbound/provider-aws/v2/apis/namespaced/kms/v1beta1"
	lambda "github.com/upbound/provider-aws/v2/apis/namespaced/lambda/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/controlplane"
)

// API composes KnowledgeBase XRs.
type API struct{}

// Kind implements compose.API.
func (API) Kind() string { return "KnowledgeBase" }

// AddToScheme implements compose.API.
func (API) AddToScheme(s *runtime.Scheme) error {
	return compose.AddToScheme(s, kendra.AddToScheme, iam.AddToScheme, kms.AddToScheme, eks.AddToScheme, corev1.AddToScheme,
		lambda.AddToScheme, apigw.AddToScheme, logs.AddToScheme)
}

var ref = compose.Sibling

type builder struct {
	req  *compose.Request
	spec *Spec
	tag  *compose.Tagger
	out  *compose.Result
	cp   controlplane.ControlPlane
}

// Compose implements compose.API.
func (API) Compose(_ context.Context, req *compose.Request) (*compose.Result, error) {
	spec, err := readSpec(req.XR)
	if err != nil {
		return nil, err
	}
	out := compose.NewResult()
	cp, ok, err := controlplane.Resolve(out, req, spec.ControlPlaneRef)
	if err != nil || !ok {
		return out, err // not fetched yet: Crossplane calls again with the Cluster
	}
	b := &builder{req: req, spec: spec, cp: cp, tag: compose.NewTagger(req.XR), out: out}
	b.index()
	b.sources()
	b.ragAPIAccess()
	if err := b.podIdentity(); err != nil {
		return nil, err
	}
	b.ragAPIConfig()
	b.lambda()
	b.usages()
	b.cp.Apply(b.out)
	b.status()
	return b.out, nil
}

func (b *builder) region() *string { return compose.Ptr(b.spec.Region) }

func doc(statements ...map[string]any) string {
	j, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements}) // maps of strings always marshal
	return string(j)
}

func trust(service string, actions ...string) string {
	return doc(map[string]any{"Effect": "Allow", "Action": actions, "Principal": map[string]any{"Service": service}})
}

// index composes the KMS key, the role Kendra uses to write its logs and
// metrics, and the index once the key's ARN exists (it takes no selector).
func (b *builder) index() {
	b.out.Add("index-key", &kms.Key{
		ObjectMeta: compose.Meta(b.req.XR, "index-key", nil),
		Spec: kms.KeySpec{ForProvider: kms.KeyParameters{
			Region: b.region(), Description: compose.Ptr("Kendra index of " + compose.Name(b.req.XR, "kb")),
			EnableKeyRotation: compose.Ptr(true), DeletionWindowInDays: compose.Ptr(30.0), Tags: b.tag.Tags("index-key"),
		}},
	})
	b.out.Add("index-role", &iam.Role{
		ObjectMeta: compose.Meta(b.req.XR, "index-role", nil),
		Spec: iam.RoleSpec{ForProvider: iam.RoleParameters{
			AssumeRolePolicy: compose.Ptr(trust("kendra.amazonaws.com", "sts:AssumeRole")),
			InlinePolicy: []iam.InlinePolicyParameters{{Name: compose.Ptr("kendra-index"), Policy: compose.Ptr(doc(
				map[string]any{"Sid": "Metrics", "Effect": "Allow", "Action": []string{"cloudwatch:PutMetricData"}, "Resource": "*",
					"Condition": map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": "AWS/Kendra"}}},
				map[string]any{"Sid": "Logs", "Effect": "Allow", "Action": []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:DescribeLogGroups"},
					"Resource": "arn:aws:logs:" + b.spec.Region + ":*:log-group:/aws/kendra/*"},
			))}},
			Tags: b.tag.Tags("index-role"),
		}},
	})
	key := b.req.AtProvider("index-key", "arn")
	if key == "" {
		b.out.Defer("index (and its data sources)", "the ARN of index-key")
		return
	}
	b.out.Add("index", &kendra.Index{
		ObjectMeta: compose.Meta(b.req.XR, "index", nil),
		Spec: kendra.IndexSpec{ForProvider: kendra.IndexParameters{
			Region: b.region(), Name: compose.Ptr(compose.Name(b.req.XR, "kb")),
			Edition:                           compose.Ptr(b.spec.Edition),
			RoleArnSelector:                   ref("index-role"),
			ServerSideEncryptionConfiguration: &kendra.ServerSideEncryptionConfigurationParameters{KMSKeyID: compose.Ptr(key)},
			// rag-api passes each caller's user id and groups
			// (UserContext.UserId/Groups); Kendra filters passages by the
			// documents' ACLs, so nobody sees what they could not open.
			// ATTRIBUTE_FILTER is the policy those fields work with (a
			// USER_TOKEN index wants a token instead, and Gen AI Enterprise
			// indexes refuse USER_TOKEN).
			UserContextPolicy: compose.Ptr("ATTRIBUTE_FILTER"),
			Tags:              b.tag.Tags("index"),
		}},
	})
}

// usages keep the index key until the index encrypted with it is gone:
// deleting the KnowledgeBase must not schedule the key's deletion under an
// index (or its final sync) that still uses it.
func (b *builder) usages() {
	if _, ok := b.out.Resources["index"]; ok {
		b.out.Use(b.req, compose.Dependency{Of: "index-key", OfKind: kms.Key_GroupVersionKind, By: "index", ByKind: kendra.Index_GroupVersionKind,
			Reason: "the index is encrypted with this key"})
	}
}

func (b *builder) status() {
	if v := b.req.AtProvider("index", "id"); v != "" {
		b.out.Status["indexId"] = v
	}
	if v := b.req.AtProvider("index", "arn"); v != "" {
		b.out.Status["indexArn"] = v
	}
	if v := b.req.AtProvider("rag-api-role", "arn"); v != "" {
		b.out.Status["ragApiRoleArn"] = v
	}
}
