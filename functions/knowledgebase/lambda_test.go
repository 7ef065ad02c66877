package knowledgebase

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	apigw "github.com/upbound/provider-aws/v2/apis/namespaced/apigatewayv2/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"
	lambda "github.com/upbound/provider-aws/v2/apis/namespaced/lambda/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/compose/composetest"
)

const image = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/rag-api@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func withLambda(extra map[string]any) map[string]any {
	l := map[string]any{"imageUri": image, "oidc": map[string]any{"issuer": "https://login.unsilo.example/", "audience": "rag-api"}}
	for k, v := range extra {
		l[k] = v
	}
	s := base()
	s["bedrock"] = map[string]any{"modelArns": []any{haiku, sonnet}, "guardrailArn": guardrl}
	s["lambda"] = l
	return s
}

func TestLambdaInvalid(t *testing.T) {
	cases := map[string]struct {
		reason string
		lambda map[string]any
		field  string
	}{
		"GHCR":        {"Lambda runs images from ECR only", map[string]any{"imageUri": "ghcr.io/unsilo/rag-api:v1"}, "spec.lambda.imageUri"},
		"OtherRegion": {"the repository must be in the function's region", map[string]any{"imageUri": strings.Replace(image, "ap-northeast-2", "us-east-1", 1)}, "spec.lambda.imageUri"},
		"FIPS":        {"Lambda refuses ECR FIPS endpoints", map[string]any{"imageUri": strings.Replace(image, "dkr.ecr.", "dkr.ecr-fips.", 1)}, "spec.lambda.imageUri"},
		"NoTag":       {"an image is pinned by tag or digest", map[string]any{"imageUri": "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/rag-api"}, "spec.lambda.imageUri"},
		"Endpoint":    {"two endpoints exist", map[string]any{"endpoint": "ALB"}, "spec.lambda.endpoint"},
		"APITimeout":  {"HTTP API integrations stop at 30 s", map[string]any{"endpoint": "HTTPAPI", "timeoutSeconds": 60}, "spec.lambda.timeoutSeconds"},
		"Memory":      {"Lambda's memory range", map[string]any{"memoryMB": 64}, "spec.lambda.memoryMB"},
		"Model":       {"the role allows the listed models only", map[string]any{"modelArn": "arn:aws:bedrock:ap-northeast-2::foundation-model/anthropic.claude-v2"}, "spec.lambda.modelArn"},
		"NoIssuer":    {"a public endpoint needs token verification", map[string]any{"oidc": map[string]any{"audience": "rag-api"}}, "spec.lambda.oidc.issuer"},
		"HTTPIssuer":  {"issuers are https", map[string]any{"oidc": map[string]any{"issuer": "http://login.example", "audience": "x"}}, "spec.lambda.oidc.issuer"},
		"NoAudience":  {"without an audience any client of the issuer gets in", map[string]any{"oidc": map[string]any{"issuer": "https://login.example"}}, "spec.lambda.oidc.audience"},
		"Arch":        {"Lambda images are single-architecture", map[string]any{"architecture": "amd64"}, "spec.lambda.architecture"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := API{}.Compose(t.Context(), &compose.Request{XR: composetest.XR("KnowledgeBase", "knowledge", "handbook", withLambda(tc.lambda))})
			fe, ok := compose.AsFieldError(err)
			if !ok || fe.Field != tc.field {
				t.Fatalf("%s: want a field error on %s, got %v", tc.reason, tc.field, err)
			}
		})
	}
}

func policyOf(t *testing.T, r *iam.Role) map[string]statement {
	t.Helper()
	var d struct{ Statement []statement }
	if err := json.Unmarshal([]byte(*r.Spec.ForProvider.InlinePolicy[0].Policy), &d); err != nil {
		t.Fatal(err)
	}
	out := map[string]statement{}
	for _, s := range d.Statement {
		out[s.Sid] = s
	}
	return out
}

// TestLambdaFunctionURL: the function waits for the index (its id is an
// argument), answers with streaming behind a public URL whose callers the
// app authenticates, and runs as a role with the pods' permissions.
func TestLambdaFunctionURL(t *testing.T) {
	early := compose1(t, withLambda(nil), nil)
	for _, n := range []string{"rag-api-lambda-role", "rag-api-lambda-logs"} {
		if _, ok := early.Resources[resource.Name(n)]; !ok {
			t.Errorf("%s missing before the index exists", n)
		}
	}
	if _, ok := early.Resources["rag-api-lambda"]; ok {
		t.Error("function composed before the index id exists")
	}
	res := compose1(t, withLambda(nil), map[string]map[string]any{"index-key": {"arn": keyARN}, "index": {"id": "idx-1", "arn": idxARN},
		"rag-api-url": {"functionUrl": "https://abc.lambda-url.ap-northeast-2.on.aws/"}})
	fn := res.Resources["rag-api-lambda"].(*lambda.Function)
	fp := fn.Spec.ForProvider
	var args []string
	for _, a := range fp.ImageConfig.Command {
		args = append(args, *a)
	}
	for _, want := range []string{"lambda", "--invoke-mode=stream", "--retriever=kendra", "--kendra-index-id=idx-1", "--generator=bedrock",
		"--bedrock-model=" + haiku, "--oidc-issuer=https://login.unsilo.example/", "--oidc-audience=rag-api", "--bedrock-guardrail-id=k3x9pq2m7zab", "--index="} {
		if !slices.Contains(args, want) {
			t.Errorf("function args %q lack %q", args, want)
		}
	}
	if *fp.PackageType != "Image" || *fp.ImageURI != image || *fp.MemorySize != 2048 || *fp.Timeout != 60 || *fp.Architectures[0] != "x86_64" {
		t.Errorf("function %+v", fp)
	}
	if fn.Annotations["crossplane.io/external-name"] == "" || *fp.LoggingConfig.LogGroup != "/aws/lambda/"+fn.Annotations["crossplane.io/external-name"] {
		t.Errorf("function name %q, log group %q", fn.Annotations["crossplane.io/external-name"], *fp.LoggingConfig.LogGroup)
	}
	url := res.Resources["rag-api-url"].(*lambda.FunctionURL).Spec.ForProvider
	if *url.AuthorizationType != "NONE" || *url.InvokeMode != "RESPONSE_STREAM" {
		t.Errorf("function URL %+v", url)
	}
	pub := res.Resources["rag-api-url-permission"].(*lambda.Permission).Spec.ForProvider
	inv := res.Resources["rag-api-url-invoke"].(*lambda.Permission).Spec.ForProvider
	if *pub.Action != "lambda:InvokeFunctionUrl" || *pub.FunctionURLAuthType != "NONE" || *inv.Action != "lambda:InvokeFunction" || !*inv.InvokedViaFunctionURL {
		t.Errorf("a NONE function URL needs InvokeFunctionUrl and InvokeFunction (via the URL only): %+v %+v", pub, inv)
	}
	if res.Status["ragApiUrl"] != "https://abc.lambda-url.ap-northeast-2.on.aws/" {
		t.Errorf("status %v", res.Status)
	}
	role := res.Resources["rag-api-lambda-role"].(*iam.Role)
	if !strings.Contains(*role.Spec.ForProvider.AssumeRolePolicy, "lambda.amazonaws.com") {
		t.Errorf("trust %s", *role.Spec.ForProvider.AssumeRolePolicy)
	}
	fnPolicy, podPolicy := policyOf(t, role), ragPolicy(t, res)
	for sid, s := range podPolicy {
		got, ok := fnPolicy[sid]
		if !ok || !slices.Equal(got.Action, s.Action) {
			t.Errorf("statement %s differs between the pods' role and the function's", sid)
		}
	}
	if logs := fnPolicy["Logs"]; !strings.Contains(logs.Resource.(string), ":log-group:/aws/lambda/") || slices.Contains(logs.Action, "logs:CreateLogGroup") {
		t.Errorf("logs statement %+v: its own group only, composed (not created by the function)", logs)
	}
}

// TestLambdaHTTPAPI: a JWT authorizer on the same issuer guards the API;
// the invoke permission waits for the API's execution ARN.
func TestLambdaHTTPAPI(t *testing.T) {
	spec := withLambda(map[string]any{"endpoint": "HTTPAPI"})
	obs := map[string]map[string]any{"index-key": {"arn": keyARN}, "index": {"id": "idx-1", "arn": idxARN}}
	res := compose1(t, spec, obs)
	if _, ok := res.Resources["rag-api-api-permission"]; ok {
		t.Error("permission composed before the API's execution ARN is known")
	}
	az := res.Resources["rag-api-authorizer"].(*apigw.Authorizer).Spec.ForProvider
	if *az.AuthorizerType != "JWT" || *az.JwtConfiguration.Issuer != "https://login.unsilo.example/" || *az.JwtConfiguration.Audience[0] != "rag-api" ||
		*az.IdentitySources[0] != "$request.header.Authorization" {
		t.Errorf("authorizer %+v", az)
	}
	in := res.Resources["rag-api-integration"].(*apigw.Integration).Spec.ForProvider
	if *in.IntegrationType != "AWS_PROXY" || *in.PayloadFormatVersion != "2.0" || *in.TimeoutMilliseconds != 30000 {
		t.Errorf("integration %+v", in)
	}
	def := res.Resources["rag-api-route"].(*apigw.Route).Spec.ForProvider
	ui := res.Resources["rag-api-route-ui"].(*apigw.Route).Spec.ForProvider
	if *def.RouteKey != "$default" || *def.AuthorizationType != "JWT" || def.AuthorizerIDSelector == nil || *ui.AuthorizationType != "NONE" || *ui.RouteKey != "GET /{proxy+}" {
		t.Errorf("routes %+v %+v", def, ui)
	}
	fn := res.Resources["rag-api-lambda"].(*lambda.Function)
	found := false
	for _, a := range fn.Spec.ForProvider.ImageConfig.Command {
		found = found || *a == "--invoke-mode=buffered"
	}
	if !found || *fn.Spec.ForProvider.Timeout != 30 {
		t.Errorf("an HTTP API gets a buffered function within its 30 s: %+v", fn.Spec.ForProvider)
	}
	obs["rag-api-http-api"] = map[string]any{"executionArn": "arn:aws:execute-api:ap-northeast-2:123456789012:a1b2c3", "apiEndpoint": "https://a1b2c3.execute-api.ap-northeast-2.amazonaws.com"}
	res = compose1(t, spec, obs)
	p := res.Resources["rag-api-api-permission"].(*lambda.Permission).Spec.ForProvider
	if *p.Principal != "apigateway.amazonaws.com" || *p.SourceArn != "arn:aws:execute-api:ap-northeast-2:123456789012:a1b2c3/*/*" {
		t.Errorf("permission %+v", p)
	}
	if res.Status["ragApiUrl"] != "https://a1b2c3.execute-api.ap-northeast-2.amazonaws.com" {
		t.Errorf("status %v", res.Status)
	}
}
