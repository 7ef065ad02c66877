package fakeaws

import (
	"k8s.io/apimachinery/pkg/runtime"

	acm "github.com/upbound/provider-aws/v2/apis/namespaced/acm/v1beta1"
	apigateway "github.com/upbound/provider-aws/v2/apis/namespaced/apigateway/v1beta1"
	cloudwatchlogs "github.com/upbound/provider-aws/v2/apis/namespaced/cloudwatchlogs/v1beta1"
	cognitoidp "github.com/upbound/provider-aws/v2/apis/namespaced/cognitoidp/v1beta1"
	elasticsearch "github.com/upbound/provider-aws/v2/apis/namespaced/elasticsearch/v1beta1"
	elb "github.com/upbound/provider-aws/v2/apis/namespaced/elb/v1beta1"
	kinesis "github.com/upbound/provider-aws/v2/apis/namespaced/kinesis/v1beta1"
	lambda "github.com/upbound/provider-aws/v2/apis/namespaced/lambda/v1beta1"
	opensearch "github.com/upbound/provider-aws/v2/apis/namespaced/opensearch/v1beta1"
	opensearchserverless "github.com/upbound/provider-aws/v2/apis/namespaced/opensearchserverless/v1beta1"
	s3control "github.com/upbound/provider-aws/v2/apis/namespaced/s3control/v1beta1"
	sns "github.com/upbound/provider-aws/v2/apis/namespaced/sns/v1beta1"
	sqs "github.com/upbound/provider-aws/v2/apis/namespaced/sqs/v1beta1"
	vpclattice "github.com/upbound/provider-aws/v2/apis/namespaced/vpclattice/v1beta1"
)

// RegisterReferencedTypes registers the API groups that the composed
// kinds' generated resolvers look up besides the composed groups (a
// FlowLog's log group is cloudwatchlogs, a listener's certificate acm, ...):
// every resolver looks each of its reference kinds up, set or not, and the
// real provider registers every group. Listed from the resolvers of the 16
// groups the functions compose (zz_generated.resolvers.go).
func RegisterReferencedTypes() error {
	for _, add := range []func(*runtime.Scheme) error{
		acm.AddToScheme, apigateway.AddToScheme, cloudwatchlogs.AddToScheme, cognitoidp.AddToScheme,
		elasticsearch.AddToScheme, elb.AddToScheme, kinesis.AddToScheme, lambda.AddToScheme,
		opensearch.AddToScheme, opensearchserverless.AddToScheme, s3control.AddToScheme,
		sns.AddToScheme, sqs.AddToScheme, vpclattice.AddToScheme,
	} {
		if err := add(resolverScheme); err != nil {
			return err
		}
	}
	return nil
}
