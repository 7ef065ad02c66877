package iampolicy

import (
	"strings"
	"testing"
)

const acct = "123456789012"

// flowLogBucket is AWS's documented VPC Flow Logs bucket policy with the
// platform's TLS-only deny in front.
const flowLogBucket = `{"Version":"2012-10-17","Statement":[
 {"Sid":"TLSOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::lake","arn:aws:s3:::lake/*"],
  "Condition":{"Bool":{"aws:SecureTransport":"false"}}},
 {"Sid":"AWSLogDeliveryWrite","Effect":"Allow","Principal":{"Service":"delivery.logs.amazonaws.com"},"Action":"s3:PutObject",
  "Resource":"arn:aws:s3:::lake/vpcflow/AWSLogs/aws-account-id=123456789012/*",
  "Condition":{"StringEquals":{"aws:SourceAccount":"123456789012","s3:x-amz-acl":"bucket-owner-full-control"},
   "ArnLike":{"aws:SourceArn":"arn:aws:logs:*:123456789012:*"}}}]}`

func flowLogPut(key string, ctx map[string][]string) Request {
	c := map[string][]string{
		"aws:SecureTransport": {"true"}, "aws:SourceAccount": {acct},
		"aws:SourceArn": {"arn:aws:logs:ap-northeast-2:" + acct + ":delivery-source:x"}, "s3:x-amz-acl": {"bucket-owner-full-control"},
	}
	for k, v := range ctx {
		c[k] = v
	}
	return Request{Principal: Principal{Service: "delivery.logs.amazonaws.com"}, Action: "s3:PutObject", Resource: "arn:aws:s3:::lake/" + key, Context: c}
}

func TestEvaluate(t *testing.T) {
	bucket := must(t, flowLogBucket)
	hive := "vpcflow/AWSLogs/aws-account-id=" + acct + "/aws-service=vpcflowlogs/aws-region=ap-northeast-2/year=2026/month=01/day=02/hour=03/f.log.gz"
	cases := map[string]struct {
		reason string
		policy *Policy
		req    Request
		want   Decision
	}{
		"HiveKey":       {"the Hive-partitioned key is under the allowed prefix", bucket, flowLogPut(hive, nil), Allowed},
		"PlainKey":      {"the plain AWSLogs/<acct>/ key is not", bucket, flowLogPut("vpcflow/AWSLogs/"+acct+"/vpcflowlogs/x", nil), NotApplicable},
		"OtherAccount":  {"aws:SourceAccount must be the lake's", bucket, flowLogPut(hive, map[string][]string{"aws:SourceAccount": {"999999999999"}}), NotApplicable},
		"NoACL":         {"a write without bucket-owner-full-control is not admitted", bucket, flowLogPut(hive, map[string][]string{"s3:x-amz-acl": nil}), NotApplicable},
		"PlainHTTP":     {"the TLS-only Deny wins over the Allow", bucket, flowLogPut(hive, map[string][]string{"aws:SecureTransport": {"false"}}), ExplicitDeny},
		"OtherService":  {"another service principal is not admitted", bucket, func() Request { r := flowLogPut(hive, nil); r.Principal.Service = "cloudtrail.amazonaws.com"; return r }(), NotApplicable},
		"ActionCase":    {"actions compare case-insensitively", bucket, func() Request { r := flowLogPut(hive, nil); r.Action = "S3:putobject"; return r }(), Allowed},
		"SourceArnMiss": {"ArnLike fails on a logs ARN of another account", bucket, flowLogPut(hive, map[string][]string{"aws:SourceArn": {"arn:aws:logs:ap-northeast-2:999999999999:x"}}), NotApplicable},
		"NotAction": {"NotAction matches everything else", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`),
			Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, Allowed},
		"NotActionExcluded": {"NotAction excludes its own", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`),
			Request{Action: "iam:PassRole", Resource: "arn:aws:iam::1:role/x"}, NotApplicable},
		"NotResource": {"NotResource excludes its own", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::b/*"}}`),
			Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, NotApplicable},
		"AccountRoot": {"an account root principal admits the account's roles", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}}`),
			Request{Principal: Principal{AWS: "arn:aws:iam::" + acct + ":role/unsilo/x"}, Action: "kms:Decrypt", Resource: "arn:aws:kms:r:" + acct + ":key/k"}, Allowed},
		"ForAnyValue": {"ForAnyValue holds when one request value matches", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"iam:PassedToService":["eks.amazonaws.com","ec2.amazonaws.com"]}}}}`),
			Request{Action: "iam:PassRole", Resource: "r", Context: map[string][]string{"iam:PassedToService": {"lambda.amazonaws.com", "ec2.amazonaws.com"}}}, Allowed},
		"ForAllValuesEmpty": {"ForAllValues holds vacuously when the key is missing", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}}}`),
			Request{Action: "ec2:CreateTags", Resource: "r"}, Allowed},
		"ForAllValuesOne": {"ForAllValues fails when one request value is outside", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}}}`),
			Request{Action: "ec2:CreateTags", Resource: "r", Context: map[string][]string{"aws:TagKeys": {"a", "b"}}}, NotApplicable},
		"NegatedMissing": {"a negated operator holds when the key is missing", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"1"}}}}`),
			Request{Action: "s3:GetObject", Resource: "r"}, ExplicitDeny},
		"IfExists": {"IfExists holds when the key is missing", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"ec2:InstanceType":"t3.small"}}}}`),
			Request{Action: "ec2:RunInstances", Resource: "r"}, Allowed},
		"Null": {"Null true holds when the key is absent", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}}`),
			Request{Action: "s3:PutObject", Resource: "r"}, ExplicitDeny},
		"IpAddress": {"IpAddress matches inside the CIDR", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`),
			Request{Action: "s3:GetObject", Resource: "r", Context: map[string][]string{"aws:SourceIp": {"203.0.113.9"}}}, Allowed},
		"NotIpAddress": {"NotIpAddress fails inside the CIDR", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`),
			Request{Action: "s3:GetObject", Resource: "r", Context: map[string][]string{"aws:SourceIp": {"203.0.113.9"}}}, NotApplicable},
		"KeyCase": {"condition key names are case-insensitive", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"AWS:SourceAccount":"1"}}}}`),
			Request{Action: "s3:GetObject", Resource: "r", Context: map[string][]string{"aws:sourceaccount": {"1"}}}, Allowed},
		"Numeric": {"NumericLessThan compares numbers", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"10"}}}}`),
			Request{Action: "s3:ListBucket", Resource: "r", Context: map[string][]string{"s3:max-keys": {"9"}}}, Allowed},
		"QuestionMark": {"? matches exactly one character", must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get?bject","Resource":"arn:aws:s3:::b/a?c"}}`),
			Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/abbc"}, NotApplicable},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := tc.policy.Evaluate(tc.req)
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			if got.Decision != tc.want {
				t.Errorf("%s: got %v (%s), want %v", tc.reason, got.Decision, got.Statement, tc.want)
			}
		})
	}
}

// TestParseRefuses: what the evaluator does not know is an error, so a
// check built on it fails closed.
func TestParseRefuses(t *testing.T) {
	cases := map[string]struct{ reason, doc, want string }{
		"DateOperator":   {"Date operators are not implemented", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}}`, "DateLessThan"},
		"UnknownOp":      {"a misspelt operator", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqual":{"a":"b"}}}}`, "StringEqual"},
		"NotPrincipal":   {"NotPrincipal is not implemented", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"x"},"Action":"*","Resource":"*"}}`, "NotPrincipal"},
		"Variable":       {"policy variables are not implemented", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}}`, "policy variables"},
		"OldVersion":     {"the 2008 language version", `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "Version"},
		"BadEffect":      {"Effect is Allow or Deny", `{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, "Effect"},
		"BothActions":    {"Action and NotAction together", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotAction":"x","Resource":"*"}}`, "both Action"},
		"NoAction":       {"a statement needs an action", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}`, "no Action"},
		"Federated":      {"federated principals are not implemented", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"x"},"Action":"*"}}`, "Federated"},
		"UnknownElement": {"a misspelt element is not ignored", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Actions":"*","Resource":"*"}}`, "Actions"},
		"BadBool":        {"Bool takes true or false", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}`, ""},
		"NullQualifier":  {"Null takes no set qualifier", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:Null":{"a":"true"}}}}`, "Null"},
		"BadCIDR":        {"IpAddress takes CIDRs", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"not-an-ip"}}}}`, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := ParseString(tc.doc)
			if err == nil {
				// Value errors surface when a request reaches the operator.
				_, err = p.Evaluate(Request{Action: "s3:GetObject", Resource: "r", Context: map[string][]string{"aws:SecureTransport": {"true"}, "aws:SourceIp": {"10.0.0.1"}}})
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: got error %v, want one naming %q", tc.reason, err, tc.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	role := Principal{AWS: "arn:aws:iam::" + acct + ":role/unsilo/log-shipper"}
	identity := must(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","kms:Decrypt"],"Resource":"*"}]}`)
	boundary := must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
	keyRoot := must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}}`)
	keyService := must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*"}}`)
	get := Request{Principal: role, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}
	decrypt := Request{Principal: role, Action: "kms:Decrypt", Resource: "arn:aws:kms:r:" + acct + ":key/k"}
	cases := map[string]struct {
		reason string
		access Access
		req    Request
		want   bool
	}{
		"IdentityAllows":    {"same account: the identity policy suffices", Access{Identity: []*Policy{identity}}, get, true},
		"BoundaryLimits":    {"the boundary must allow too", Access{Identity: []*Policy{identity}, Boundary: must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}`)}, get, false},
		"WithinBoundary":    {"identity and boundary allow", Access{Identity: []*Policy{identity}, Boundary: boundary}, get, true},
		"KeyDelegates":      {"a key policy naming the account delegates to IAM", Access{Identity: []*Policy{identity}, Resource: keyRoot, KeyPolicy: true}, decrypt, true},
		"KeyMustAllow":      {"a key policy that names only a service refuses the role", Access{Identity: []*Policy{identity}, Resource: keyService, KeyPolicy: true}, decrypt, false},
		"DelegationNeedsID": {"delegation without an identity allow is a deny", Access{Identity: []*Policy{must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)}, Resource: keyRoot, KeyPolicy: true}, decrypt, false},
		"ServiceByResource": {"a service principal is decided by the resource policy alone", Access{Resource: keyService, KeyPolicy: true},
			Request{Principal: Principal{Service: "cloudtrail.amazonaws.com"}, Action: "kms:GenerateDataKey", Resource: "k"}, true},
		"ResourceDenies": {"a resource policy's Deny wins over the identity's Allow", Access{Identity: []*Policy{identity}, Resource: must(t, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}`)},
			Request{Principal: role, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: map[string][]string{"aws:SecureTransport": {"false"}}}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			v, err := tc.access.Decide(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if v.Allowed != tc.want {
				t.Errorf("%s: allowed=%v (%s), want %v", tc.reason, v.Allowed, v.Reason, tc.want)
			}
		})
	}
}

func TestWildcard(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"a*", "a", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false},
		{"*a*b*", "xaxxbx", true}, {"a?c", "abc", true}, {"a?c", "ac", false}, {"", "", true}, {"", "a", false},
		{"arn:aws:s3:::b/*/AWSLogs/1/*", "arn:aws:s3:::b/alb/team/AWSLogs/1/x", true},
	}
	for _, c := range cases {
		if got := Wildcard(c.pattern, c.s, false); got != c.want {
			t.Errorf("Wildcard(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func must(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := ParseString(doc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FuzzParseEvaluate: no document makes Parse, Evaluate or Decide panic,
// and an evaluation error of a parsed policy always says what it wanted.
func FuzzParseEvaluate(f *testing.F) {
	f.Add(flowLogBucket, "s3:PutObject", "arn:aws:s3:::lake/x", "aws:SourceAccount", acct)
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringLike":{"k":["a*","?b"]}}}}`, "x:Y", "r", "k", "ab")
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":["1","*"]},"NotAction":"a:*","NotResource":["*?*"]}]}`, "b:C", "", "", "")
	f.Fuzz(func(t *testing.T, doc, action, resource, key, value string) {
		p, err := ParseString(doc)
		if err != nil {
			return
		}
		r := Request{Principal: Principal{AWS: "arn:aws:iam::1:role/x"}, Action: action, Resource: resource, Context: map[string][]string{key: {value}}}
		if _, err := p.Evaluate(r); err != nil && !strings.Contains(err.Error(), "want") {
			t.Errorf("evaluation error without a reason: %v", err)
		}
		_, _ = Access{Identity: []*Policy{p}, Resource: p, Boundary: p, KeyPolicy: true}.Decide(r)
	})
}
