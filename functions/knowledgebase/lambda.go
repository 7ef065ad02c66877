package knowledgebase

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	apigw "github.com/upbound/provider-aws/v2/apis/namespaced/apigatewayv2/v1beta1"
	logs "github.com/upbound/provider-aws/v2/apis/namespaced/cloudwatchlogs/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"
	lambda "github.com/upbound/provider-aws/v2/apis/namespaced/lambda/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// Lambda runs rag-api as the seed system did: a function answering from
// the Kendra index with Bedrock, behind a Function URL (responses streamed)
// or an API Gateway HTTP API (a JWT authorizer on the same OIDC issuer).
type Lambda struct {
	// ImageURI is rag-api's image in Amazon ECR in spec.region (Lambda runs
	// images from ECR only, in the function's region; another account's
	// repository works with a repository policy). Copy the published image
	// there first (crane copy ghcr.io/unsilo/rag-api:TAG ...) and pin it
	// by digest.
	ImageURI       string     `json:"imageUri"`
	Endpoint       string     `json:"endpoint"` // FunctionURL (default) or HTTPAPI
	MemoryMB       int        `json:"memoryMB"`
	TimeoutSeconds int        `json:"timeoutSeconds"`
	Architecture   string     `json:"architecture"`
	ModelARN       string     `json:"modelArn"` // one of spec.bedrock.modelArns (default: the first)
	OIDC           LambdaOIDC `json:"oidc"`
	// ReservedConcurrency caps simultaneous invocations (and so Bedrock
	// spend); 0 leaves the account's pool.
	ReservedConcurrency int `json:"reservedConcurrency,omitempty"`
	// GuardrailVersion of spec.bedrock.guardrailArn the function applies.
	GuardrailVersion string `json:"guardrailVersion,omitempty"`
}

// LambdaOIDC is the issuer whose tokens the function accepts.
type LambdaOIDC struct {
	Issuer      string `json:"issuer"`
	Audience    string `json:"audience"`
	GroupsClaim string `json:"groupsClaim"`
	UserClaim   string `json:"userClaim"`
}

// Endpoints of the Lambda deployment.
const (
	EndpointFunctionURL = "FunctionURL"
	EndpointHTTPAPI     = "HTTPAPI"
	// httpAPIMaxTimeout is API Gateway's integration timeout ceiling (30 s).
	httpAPIMaxTimeout = 30
)

var (
	// ecrImage is a private ECR image by tag or digest; FIPS endpoints
	// (ecr-fips) are not accepted by Lambda for container images.
	ecrImage = regexp.MustCompile(`^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$`)
	httpsURL = regexp.MustCompile(`^https://[^\s/?#]+(/[^\s?#]*)?$`)
)

func (l *Lambda) defaults(models []string) {
	if l.Endpoint == "" {
		l.Endpoint = EndpointFunctionURL
	}
	if l.MemoryMB == 0 {
		l.MemoryMB = 2048
	}
	if l.TimeoutSeconds == 0 {
		l.TimeoutSeconds = 60
		if l.Endpoint == EndpointHTTPAPI {
			l.TimeoutSeconds = httpAPIMaxTimeout
		}
	}
	if l.Architecture == "" {
		l.Architecture = "x86_64"
	}
	if l.ModelARN == "" && len(models) > 0 {
		l.ModelARN = models[0]
	}
	if l.OIDC.GroupsClaim == "" {
		l.OIDC.GroupsClaim = "groups"
	}
	if l.OIDC.UserClaim == "" {
		l.OIDC.UserClaim = "email"
	}
	if l.GuardrailVersion == "" {
		l.GuardrailVersion = "DRAFT"
	}
}

func (l *Lambda) validate(region string, models []string) error {
	m := ecrImage.FindStringSubmatch(l.ImageURI)
	switch {
	case m == nil:
		return compose.Invalid("spec.lambda.imageUri", l.ImageURI, "must be an Amazon ECR image (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG or @sha256:DIGEST): Lambda runs container images from ECR only")
	case m[2] != region:
		return compose.Invalid("spec.lambda.imageUri", l.ImageURI, "the ECR repository must be in %s, the function's region (Lambda pulls images from its own region only)", region)
	}
	switch l.Endpoint {
	case EndpointFunctionURL, EndpointHTTPAPI:
	default:
		return compose.Invalid("spec.lambda.endpoint", l.Endpoint, "must be FunctionURL or HTTPAPI")
	}
	if l.MemoryMB < 128 || l.MemoryMB > 10240 {
		return compose.Invalid("spec.lambda.memoryMB", l.MemoryMB, "must be between 128 and 10240")
	}
	if l.TimeoutSeconds < 1 || l.TimeoutSeconds > 900 {
		return compose.Invalid("spec.lambda.timeoutSeconds", l.TimeoutSeconds, "must be between 1 and 900")
	}
	if l.Endpoint == EndpointHTTPAPI && l.TimeoutSeconds > httpAPIMaxTimeout {
		return compose.Invalid("spec.lambda.timeoutSeconds", l.TimeoutSeconds, "an HTTP API integration times out after 30 s; use the FunctionURL endpoint for longer answers")
	}
	if l.Architecture != "x86_64" && l.Architecture != "arm64" {
		return compose.Invalid("spec.lambda.architecture", l.Architecture, "must be x86_64 or arm64 (the image must be built for that one architecture)")
	}
	found := false
	for _, a := range models {
		found = found || a == l.ModelARN
	}
	if !found {
		return compose.Invalid("spec.lambda.modelArn", l.ModelARN, "must be one of spec.bedrock.modelArns: the role allows no other")
	}
	if !httpsURL.MatchString(l.OIDC.Issuer) {
		return compose.Invalid("spec.lambda.oidc.issuer", l.OIDC.Issuer, "required: the https URL of the OIDC issuer whose tokens callers present")
	}
	if l.OIDC.Audience == "" {
		return compose.Invalid("spec.lambda.oidc.audience", nil, "required: the client id tokens must be issued to (without it any client of the issuer gets in)")
	}
	if l.ReservedConcurrency < 0 {
		return compose.Invalid("spec.lambda.reservedConcurrency", l.ReservedConcurrency, "must not be negative")
	}
	return nil
}

// functionName is the function's AWS name (64 characters at most).
func (b *builder) functionName() string { return compose.ShortName(b.req.XR, "rag-api", 64) }

// lambda composes the function once the index exists (its id is an
// argument of the function), with its own role carrying the same
// permissions as the pods' role, a log group with retention, and the
// chosen endpoint.
func (b *builder) lambda() {
	l := b.spec.Lambda
	if l == nil {
		return
	}
	name := b.functionName()
	logGroup := "/aws/lambda/" + name
	statements := append(b.ragAPIStatements(), map[string]any{
		"Sid": "Logs", "Effect": "Allow", "Action": []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		"Resource": fmt.Sprintf("arn:aws:logs:%s:*:log-group:%s:*", b.spec.Region, logGroup),
	})
	b.out.Add("rag-api-lambda-role", &iam.Role{
		ObjectMeta: compose.Meta(b.req.XR, "rag-api-lambda-role", nil),
		Spec: iam.RoleSpec{ForProvider: iam.RoleParameters{
			AssumeRolePolicy: compose.Ptr(trust("lambda.amazonaws.com", "sts:AssumeRole")),
			InlinePolicy:     []iam.InlinePolicyParameters{{Name: compose.Ptr("rag-api"), Policy: compose.Ptr(doc(statements...))}},
			Tags:             b.tag.Tags("rag-api-lambda-role"),
		}},
	})
	retention := 30.0
	if b.spec.Environment == "prod" {
		retention = 365
	}
	lm := compose.Meta(b.req.XR, "rag-api-lambda-logs", nil)
	lm.Annotations = map[string]string{"crossplane.io/external-name": logGroup}
	b.out.Add("rag-api-lambda-logs", &logs.Group{
		ObjectMeta: lm,
		Spec:       logs.GroupSpec{ForProvider: logs.GroupParameters{Region: b.region(), RetentionInDays: compose.Ptr(retention), Tags: b.tag.Tags("rag-api-lambda-logs")}},
	})
	indexID := b.req.AtProvider("index", "id")
	if indexID == "" {
		b.out.Defer("rag-api-lambda (and its URL and API)", "the id of index")
		return
	}
	fm := compose.Meta(b.req.XR, "rag-api-lambda", nil)
	fm.Annotations = map[string]string{"crossplane.io/external-name": name}
	fn := &lambda.Function{
		ObjectMeta: fm,
		Spec: lambda.FunctionSpec{ForProvider: lambda.FunctionParameters{
			Region: b.region(), PackageType: compose.Ptr("Image"), ImageURI: compose.Ptr(l.ImageURI),
			Architectures: []*string{compose.Ptr(l.Architecture)},
			ImageConfig:   &lambda.ImageConfigParameters{Command: ptrs(b.lambdaArgs(indexID))},
			MemorySize:    compose.Ptr(float64(l.MemoryMB)), Timeout: compose.Ptr(float64(l.TimeoutSeconds)),
			RoleSelector:  ref("rag-api-lambda-role"),
			LoggingConfig: &lambda.LoggingConfigParameters{LogFormat: compose.Ptr("Text"), LogGroup: compose.Ptr(logGroup)},
			Description:   compose.Ptr("rag-api for KnowledgeBase " + b.req.XR.Resource.GetName()),
			Tags:          b.tag.Tags("rag-api-lambda"),
		}},
	}
	if l.ReservedConcurrency > 0 {
		fn.Spec.ForProvider.ReservedConcurrentExecutions = compose.Ptr(float64(l.ReservedConcurrency))
	}
	b.out.Add("rag-api-lambda", fn)
	if l.Endpoint == EndpointHTTPAPI {
		b.httpAPI(l)
	} else {
		b.functionURL()
	}
}

// lambdaArgs are rag-api's flags in the function (the image's entrypoint is
// the rag-api binary): Kendra with the caller's identity, Bedrock with the
// guardrail, tokens verified by the app whatever the endpoint checked.
func (b *builder) lambdaArgs(indexID string) []string {
	l := b.spec.Lambda
	mode := "stream"
	if l.Endpoint == EndpointHTTPAPI {
		mode = "buffered" // HTTP APIs do not stream responses
	}
	args := []string{"lambda", "--invoke-mode=" + mode, "--index=", "--retriever=kendra", "--kendra-index-id=" + indexID,
		"--generator=bedrock", "--bedrock-model=" + l.ModelARN,
		"--answer-timeout=" + strconv.Itoa(max(l.TimeoutSeconds-5, 1)) + "s",
		"--oidc-issuer=" + l.OIDC.Issuer, "--oidc-audience=" + l.OIDC.Audience,
		"--oidc-groups-claim=" + l.OIDC.GroupsClaim, "--oidc-user-claim=" + l.OIDC.UserClaim}
	if g := b.spec.Bedrock.GuardrailARN; g != "" {
		args = append(args, "--bedrock-guardrail-id="+g[strings.LastIndex(g, "/")+1:], "--bedrock-guardrail-version="+l.GuardrailVersion)
	}
	return args
}

// functionURL exposes the function with streamed responses. The URL itself
// is public (auth type NONE, which needs both permissions below since
// October 2025); every API call still needs a token the app verifies
// against the issuer and audience, and the UI logs in with PKCE.
func (b *builder) functionURL() {
	b.out.Add("rag-api-url", &lambda.FunctionURL{
		ObjectMeta: compose.Meta(b.req.XR, "rag-api-url", nil),
		Spec: lambda.FunctionURLSpec{ForProvider: lambda.FunctionURLParameters{
			Region: b.region(), FunctionNameSelector: ref("rag-api-lambda"),
			AuthorizationType: compose.Ptr("NONE"), InvokeMode: compose.Ptr("RESPONSE_STREAM"),
		}},
	})
	b.out.Add("rag-api-url-permission", &lambda.Permission{
		ObjectMeta: compose.Meta(b.req.XR, "rag-api-url-permission", nil),
		Spec: lambda.PermissionSpec{ForProvider: lambda.PermissionParameters{
			Region: b.region(), FunctionNameSelector: ref("rag-api-lambda"), StatementID: compose.Ptr("FunctionURLPublic"),
			Action: compose.Ptr("lambda:InvokeFunctionUrl"), Principal: compose.Ptr("*"), FunctionURLAuthType: compose.Ptr("NONE"),
		}},
	})
	b.out.Add("rag-api-url-invoke", &lambda.Permission{
		ObjectMeta: compose.Meta(b.req.XR, "rag-api-url-invoke", nil),
		Spec: lambda.PermissionSpec{ForProvider: lambda.PermissionParameters{
			Region: b.region(), FunctionNameSelector: ref("rag-api-lambda"), StatementID: compose.Ptr("FunctionURLInvoke"),
			Action: compose.Ptr("lambda:InvokeFunction"), Principal: compose.Ptr("*"), InvokedViaFunctionURL: compose.Ptr(true),
		}},
	})
	if u := b.req.AtProvider("rag-api-url", "functionUrl"); u != "" {
		b.out.Status["ragApiUrl"] = u
	}
}

// httpAPI puts an API Gateway HTTP API in front: a JWT authorizer on the
// same issuer and audience guards every request but the UI's GETs (whose
// API calls the app verifies itself).
func (b *builder) httpAPI(l *Lambda) {
	b.out.Add("rag-api-http-api", &apigw.API{
		ObjectMeta: compose.Meta(b.req.XR, "rag-api-http-api", nil),
		Spec: apigw.APISpec{ForProvider: apigw.APIParameters{
			Region: b.region(), Name: compose.Ptr(b.functionName()), ProtocolType: compose.Ptr("HTTP"), Tags: b.tag.Tags("rag-api-http-api"),
		}},
	})
	b.out.Add("rag-api-authorizer", &apigw.Authorizer{
		ObjectMeta: compose.Meta(b.req.XR, "rag-api-authorizer", nil),
		Spec: apigw.AuthorizerSpec{ForProvider: apigw.AuthorizerParameters{
			Region: b.region(), APIIDSelector: ref("rag-api-http-api"), Name: compose.Ptr("oidc"),
			AuthorizerType: compose.Ptr("JWT"), IdentitySources: []*string{compose.Ptr("$request.header.Authorization")},
			JwtConfiguration: &apigw.JwtConfigurationParameters{Issuer: compose.Ptr(l.OIDC.Issuer), Audience: []*string{compose.Ptr(l.OIDC.Audience)}},
		}},
	})
	b.out.Add("rag-api-integration", &apigw.Integration{
		ObjectMeta: compose.Meta(b.req.XR, "rag-api-integration", nil),
		Spec: apigw.IntegrationSpec{ForProvider: apigw.IntegrationParameters{
			Region: b.region(), APIIDSelector: ref("rag-api-http-api"), IntegrationType: compose.Ptr("AWS_PROXY"),
			IntegrationURISelector: ref("rag-api-lambda"), PayloadFormatVersion: compose.Ptr("2.0"),
			TimeoutMilliseconds: compose.Ptr(float64(httpAPIMaxTimeout * 1000)),
		}},
	})
	for _, r := range []struct{ name, key, auth string }{
		{"rag-api-route", "$default", "JWT"},
		{"rag-api-route-ui", "GET /{proxy+}", "NONE"},
		{"rag-api-route-index", "GET /", "NONE"},
	} {
		p := apigw.RouteParameters{Region: b.region(), APIIDSelector: ref("rag-api-http-api"), RouteKey: compose.Ptr(r.key),
			TargetSelector: ref("rag-api-integration"), AuthorizationType: compose.Ptr(r.auth)}
		if r.auth == "JWT" {
			p.AuthorizerIDSelector = ref("rag-api-authorizer")
		}
		b.out.Add(r.name, &apigw.Route{ObjectMeta: compose.Meta(b.req.XR, r.name, nil), Spec: apigw.RouteSpec{ForProvider: p}})
	}
	sm := compose.Meta(b.req.XR, "rag-api-stage", nil)
	sm.Annotations = map[string]string{"crossplane.io/external-name": "$default"} // the stage's name
	b.out.Add("rag-api-stage", &apigw.Stage{
		ObjectMeta: sm,
		Spec: apigw.StageSpec{ForProvider: apigw.StageParameters{
			Region: b.region(), APIIDSelector: ref("rag-api-http-api"), AutoDeploy: compose.Ptr(true),
			Tags: b.tag.Tags("rag-api-stage"),
		}},
	})
	exec := b.req.AtProvider("rag-api-http-api", "executionArn")
	if exec == "" {
		b.out.Defer("rag-api-api-permission", "the executionArn of rag-api-http-api")
		return
	}
	b.out.Add("rag-api-api-permission", &lambda.Permission{
		ObjectMeta: compose.Meta(b.req.XR, "rag-api-api-permission", nil),
		Spec: lambda.PermissionSpec{ForProvider: lambda.PermissionParameters{
			Region: b.region(), FunctionNameSelector: ref("rag-api-lambda"), StatementID: compose.Ptr("HTTPAPIInvoke"),
			Action: compose.Ptr("lambda:InvokeFunction"), Principal: compose.Ptr("apigateway.amazonaws.com"),
			SourceArn: compose.Ptr(exec + "/*/*"),
		}},
	})
	if u := b.req.AtProvider("rag-api-http-api", "apiEndpoint"); u != "" {
		b.out.Status["ragApiUrl"] = u
	}
}

func ptrs(ss []string) []*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	return out
}
