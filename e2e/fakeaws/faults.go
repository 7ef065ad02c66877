package fakeaws

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Match picks managed resources by what Crossplane puts on the ones it
// composes: their kind, the XR they belong to and their name in the
// composition. Empty fields match anything.
type Match struct {
	Kind      string // e.g. Bucket
	Composite string // the crossplane.io/composite label
	Resource  string // the crossplane.io/composition-resource-name annotation
}

// Fault is how AWS misbehaves for matching resources.
type Fault struct {
	// Code and Message are an AWS error (e.g. AccessDenied, "Access
	// Denied"); Status its HTTP status. Empty Code: no error.
	Code, Message string
	Status        int
	// Slow delays readiness after creation (CloudFront takes minutes).
	Slow time.Duration
}

type faults struct {
	mu sync.RWMutex
	m  map[Match]Fault
}

func (f *faults) set(m Match, x Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[m] = x
}

func (f *faults) clear(m Match) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, m)
}

func (f *faults) lookup(kind string, labels, annotations map[string]string) (Fault, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for m, x := range f.m {
		if (m.Kind == "" || m.Kind == kind) &&
			(m.Composite == "" || m.Composite == labels["crossplane.io/composite"]) &&
			(m.Resource == "" || m.Resource == annotations["crossplane.io/composition-resource-name"]) {
			return x, true
		}
	}
	return Fault{}, false
}

// serviceIDs are the SDK's service ids, which its errors name.
var serviceIDs = map[string]string{
	"ec2": "EC2", "s3": "S3", "iam": "IAM", "kms": "KMS", "rds": "RDS", "elbv2": "Elastic Load Balancing v2",
	"autoscaling": "Auto Scaling", "cloudfront": "CloudFront", "wafv2": "WAFV2", "firehose": "Firehose",
	"glue": "Glue", "athena": "Athena", "cloudtrail": "CloudTrail", "eks": "EKS", "kendra": "kendra",
	"secretsmanager": "Secrets Manager",
}

// apiError renders an AWS failure the way the provider reports it: the
// Terraform AWS provider's diagnostic around the SDK's operation error
// (`operation error S3: CreateBucket, https response error StatusCode: 403,
// RequestID: ..., api error AccessDenied: Access Denied`).
func apiError(group, kind, name, verb string, f Fault) error {
	return apiErrorOp(group, kind, name, verb, strings.ToUpper(verb[:1])+verb[1:]+kind, f)
}

// readOps are the calls the Terraform AWS provider reads a resource with,
// where the generic Describe<Kind> would not be the real name.
var readOps = map[string]string{"Bucket": "HeadBucket", "VPC": "DescribeVpcs", "Subnet": "DescribeSubnets", "Distribution": "GetDistribution", "Key": "DescribeKey", "Role": "GetRole"}

func readError(group, kind, name string, f Fault) error {
	op, ok := readOps[kind]
	if !ok {
		op = "Describe" + kind
	}
	return apiErrorOp(group, kind, name, "read", op, f)
}

func apiErrorOp(group, kind, name, verb, operation string, f Fault) error {
	svc := strings.TrimSuffix(group, ".aws.m.upbound.io")
	status := f.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	op := &smithy.OperationError{
		ServiceID:     serviceIDs[svc],
		OperationName: operation,
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err: &smithy.GenericAPIError{Code: f.Code, Message: f.Message}},
			RequestID: uuid(),
		},
	}
	return fmt.Errorf("failed to %s the resource: [{0 %sing %s %s (%s): %w  []}]", verb, strings.TrimSuffix(verb, "e"), serviceIDs[svc], kind, name, op)
}

// ErrorCode is the AWS error code inside err, if any.
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
