// Package awscalls records the AWS calls an app's code makes, from inside
// the AWS SDK for Go v2, so that the IAM role the platform composes for
// the app can be checked against what the app really calls (unsilo
// verify, permissions contracts).
//
// An app's test builds its SDK client with Recorder.APIOption in
// APIOptions, drives the app's own code against a fake AWS endpoint, and
// compares the recorded calls with the checked-in contract
// (contracts/<app>/<package>.json) with Golden; UPDATE_GOLDEN=1 rewrites
// it. Each call is the service's operation, the IAM action it needs and
// the resource it acted on, as an ARN where the input names one.
package awscalls

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Call is one recorded AWS call.
type Call struct {
	Operation string `json:"operation"` // "<service id>.<operation>", e.g. "S3.PutObject"
	Action    string `json:"action"`    // the IAM action it needs, e.g. "s3:PutObject"
	// Resource is the ARN the input names (bucket, object, workgroup,
	// index, model), with ACCOUNT for the caller's account, or "*" when
	// the input names none (an action on an id, a listing).
	Resource string `json:"resource"`
}

// Recorder collects calls; it is safe for concurrent clients.
type Recorder struct {
	mu    sync.Mutex
	calls map[Call]bool
}

// New returns an empty Recorder.
func New() *Recorder { return &Recorder{calls: map[Call]bool{}} }

// APIOption adds the recording middleware to a client's stack: put it in
// the client's Options.APIOptions (or aws.Config.APIOptions).
func (r *Recorder) APIOption(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("unsilo-awscalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			r.record(Of(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), awsmiddleware.GetRegion(ctx), in.Parameters))
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (r *Recorder) record(c Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[c] = true
}

// Calls returns the distinct calls recorded, sorted.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Call, 0, len(r.calls))
	for c := range r.calls {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Action != out[j].Action {
			return out[i].Action < out[j].Action
		}
		if out[i].Resource != out[j].Resource {
			return out[i].Resource < out[j].Resource
		}
		return out[i].Operation < out[j].Operation
	})
	return out
}

// prefixes are the IAM service prefixes of the SDK's service ids, by the
// id in lower case (the SDK spells Kendra's "kendra", S3's "S3").
var prefixes = map[string]string{
	"s3": "s3", "athena": "athena", "kendra": "kendra", "bedrock runtime": "bedrock", "glue": "glue",
	"firehose": "firehose", "sts": "sts", "secrets manager": "secretsmanager", "kms": "kms",
}

// actions are the operations whose IAM action has another name (the
// Service Authorization Reference's "actions" table for each service).
var actions = map[string]string{
	"S3.ListObjectsV2": "s3:ListBucket", "S3.ListObjects": "s3:ListBucket", "S3.HeadBucket": "s3:ListBucket",
	"S3.HeadObject": "s3:GetObject", "S3.CreateMultipartUpload": "s3:PutObject", "S3.UploadPart": "s3:PutObject",
	"S3.CompleteMultipartUpload": "s3:PutObject", "S3.ListParts": "s3:ListMultipartUploadParts",
	"Bedrock Runtime.Converse": "bedrock:InvokeModel", "Bedrock Runtime.ConverseStream": "bedrock:InvokeModelWithResponseStream",
	// SQS has no batch permissions: the single-message action covers its
	// batch (SQS developer guide, "Amazon SQS batch actions").
	"SQS.DeleteMessageBatch": "sqs:DeleteMessage", "SQS.ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
	"SQS.SendMessageBatch": "sqs:SendMessage",
}

// Of is the Call of one operation with its input.
func Of(service, operation, region string, input any) Call {
	op := service + "." + operation
	action, ok := actions[op]
	if !ok {
		p := prefixes[strings.ToLower(service)]
		if p == "" {
			p = strings.ToLower(strings.ReplaceAll(service, " ", ""))
		}
		action = p + ":" + operation
	}
	return Call{Operation: op, Action: action, Resource: resource(service, region, input)}
}

// resource builds the ARN the input names.
func resource(service, region string, input any) string {
	get := func(field string) string {
		v := reflect.ValueOf(input)
		for v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return ""
		}
		f := v.FieldByName(field)
		if f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.String {
			return f.Elem().String()
		}
		return ""
	}
	switch strings.ToLower(service) {
	case "s3":
		b, k := get("Bucket"), get("Key")
		switch {
		case b == "":
			return "*"
		case k == "":
			return "arn:aws:s3:::" + b
		}
		return "arn:aws:s3:::" + b + "/" + k
	case "athena":
		if wg := get("WorkGroup"); wg != "" {
			return "arn:aws:athena:" + region + ":ACCOUNT:workgroup/" + wg
		}
	case "kendra":
		if id := get("IndexId"); id != "" {
			return "arn:aws:kendra:" + region + ":ACCOUNT:index/" + id
		}
	case "sqs":
		// A queue URL ends in /<account>/<name> (or /queue/<name> on a test
		// endpoint): the ARN names the queue, the account is filled in.
		if u := get("QueueUrl"); u != "" {
			return "arn:aws:sqs:" + region + ":ACCOUNT:" + u[strings.LastIndex(u, "/")+1:]
		}
	case "bedrock runtime":
		if m := get("ModelId"); strings.HasPrefix(m, "arn:") {
			return m
		} else if m != "" {
			return "arn:aws:bedrock:" + region + "::foundation-model/" + m
		}
	}
	return "*"
}

// Map returns a recorder holding f of every call: a test rewrites parts of
// a resource that change from run to run (a time window in an object key)
// into a stable placeholder, so the contract stays comparable.
func (r *Recorder) Map(f func(Call) Call) *Recorder {
	out := New()
	for _, c := range r.Calls() {
		out.record(f(c))
	}
	return out
}

// Contract is a checked-in record of an app package's AWS calls.
type Contract struct {
	// RecordedBy is the test run that writes it.
	RecordedBy string `json:"recordedBy"`
	Calls      []Call `json:"calls"`
}

// Golden compares the recorded calls with the contract at path, or
// rewrites it when update is set. An empty recording is an error: a test
// that records nothing shows nothing.
func Golden(path, recordedBy string, r *Recorder, update bool) error {
	calls := r.Calls()
	if len(calls) == 0 {
		return fmt.Errorf("no AWS calls recorded for %s: is the recorder in the client's APIOptions?", path)
	}
	want, err := json.MarshalIndent(Contract{RecordedBy: recordedBy, Calls: calls}, "", "  ")
	if err != nil {
		return err
	}
	want = append(want, '\n')
	if update {
		return os.WriteFile(path, want, 0o644)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w (run with UPDATE_GOLDEN=1 to record it)", err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s is stale: the code calls\n%s\n(run with UPDATE_GOLDEN=1 to record it and review the diff)", path, want)
	}
	return nil
}

// Read loads a contract file.
func Read(path string) (*Contract, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Contract
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}
