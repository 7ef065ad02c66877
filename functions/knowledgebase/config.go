package knowledgebase

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/unsilo/unsilo/functions/compose"
)

// ConfigMapName is the ConfigMap rag-api's chart reads (values:
// knowledgeBase) so the index id never has to be copied into git by hand.
func ConfigMapName(xrName string) string { return xrName + "-knowledgebase" }

// ragAPIConfig composes, in the XR's namespace, what rag-api needs to find
// this knowledge base on AWS, once the index exists.
func (b *builder) ragAPIConfig() {
	id, arn := b.req.AtProvider("index", "id"), b.req.AtProvider("index", "arn")
	if id == "" {
		b.out.Defer("rag-api-config", "the id of index")
		return
	}
	m := compose.Meta(b.req.XR, "rag-api-config", nil)
	m.GenerateName, m.Name = "", ConfigMapName(b.req.XR.Resource.GetName())
	b.out.Add("rag-api-config", &corev1.ConfigMap{ObjectMeta: m, Data: map[string]string{
		"AWS_REGION":         b.spec.Region,
		"KENDRA_INDEX_ID":    id,
		"KENDRA_INDEX_ARN":   arn,
		"BEDROCK_MODEL_ARNS": strings.Join(b.spec.Bedrock.ModelARNs, ","),
	}})
}
