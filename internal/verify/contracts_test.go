package verify

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestContracts: log-shipper's composed role matches the calls its tests
// record (contracts/log-shipper), and each drift is a finding.
func TestContracts(t *testing.T) {
	contracts, err := loadContracts(repo)
	if err != nil {
		t.Fatal(err)
	}
	var shipper contract
	for _, k := range contracts {
		if k.app == "log-shipper" {
			shipper = k
		}
	}
	if len(shipper.records) == 0 || len(shipper.records[0].calls) == 0 {
		t.Fatal("no recorded calls for log-shipper: the contract check would pass anything")
	}
	const acct = "123456789012"
	edit := func(policy string) func(t *testing.T, all []convergedXR) {
		return func(t *testing.T, all []convergedXR) {
			mutate(t, all, "role-log-shipper", func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"name": "least-privilege", "policy": policy}}, "spec", "forProvider", "inlinePolicy")
			})
		}
	}
	cases := map[string]struct {
		reason string
		edit   func(t *testing.T, all []convergedXR)
		want   string
	}{
		"AsComposed": {"the composed role is what the code calls plus the stated allowance", func(*testing.T, []convergedXR) {}, ""},
		"MissingStop": {"a cancelled Athena query could not be stopped (issue 13, 12: query --athena failed on missing grants)", edit(`{"Version":"2012-10-17","Statement":[
			{"Sid":"Q","Effect":"Allow","Action":["athena:StartQueryExecution","athena:GetQueryExecution","athena:GetQueryResults"],"Resource":"arn:aws:athena:ap-northeast-2:123456789012:workgroup/unsilo-prod"},
			{"Sid":"S","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","s3:PutObject"],"Resource":["arn:aws:s3:::unsilo-lake-raw-prod","arn:aws:s3:::unsilo-lake-raw-prod/*","arn:aws:s3:::unsilo-lake-curated-prod","arn:aws:s3:::unsilo-lake-curated-prod/*"]}]}`),
			"the role does not allow athena:StopQueryExecution"},
		"WrongBucket": {"the role writes Parquet to another bucket than the code does", edit(`{"Version":"2012-10-17","Statement":[
			{"Sid":"Q","Effect":"Allow","Action":["athena:StartQueryExecution","athena:GetQueryExecution","athena:GetQueryResults","athena:StopQueryExecution"],"Resource":"arn:aws:athena:ap-northeast-2:123456789012:workgroup/unsilo-prod"},
			{"Sid":"S","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","s3:PutObject"],"Resource":["arn:aws:s3:::unsilo-lake-raw-prod","arn:aws:s3:::unsilo-lake-raw-prod/*"]}]}`),
			"the role refuses s3:PutObject on arn:aws:s3:::unsilo-lake-curated-prod/logs/"},
		"Unused": {"a grant the code never uses and the allowance does not explain (issue 13, 12: fluent-bit's s3:PutObject)", edit(`{"Version":"2012-10-17","Statement":[
			{"Sid":"Q","Effect":"Allow","Action":["athena:StartQueryExecution","athena:GetQueryExecution","athena:GetQueryResults","athena:StopQueryExecution"],"Resource":"arn:aws:athena:ap-northeast-2:123456789012:workgroup/unsilo-prod"},
			{"Sid":"S","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","s3:PutObject","s3:DeleteObject"],"Resource":["arn:aws:s3:::unsilo-lake-raw-prod","arn:aws:s3:::unsilo-lake-raw-prod/*","arn:aws:s3:::unsilo-lake-curated-prod","arn:aws:s3:::unsilo-lake-curated-prod/*"]}]}`),
			"the role allows s3:DeleteObject, which the app's recorded calls never make"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			all := goldenRenders(t, "compositions/cluster/examples/prod.rendered.yaml")
			tc.edit(t, all)
			fs := checkContracts(all, contracts, acct)
			found := false
			for _, f := range fs {
				found = found || strings.Contains(f.Reason, tc.want)
			}
			switch {
			case tc.want == "" && len(fs) > 0:
				t.Errorf("%s: unexpected %v", tc.reason, fs)
			case tc.want != "" && !found:
				t.Errorf("%s: want a finding saying %q, got %v", tc.reason, tc.want, fs)
			}
		})
	}
}

// TestRagAPIContract: the KnowledgeBase's rag-api role must allow the
// Kendra calls rag-api's retriever makes.
func TestRagAPIContract(t *testing.T) {
	contracts, err := loadContracts(repo)
	if err != nil {
		t.Fatal(err)
	}
	all := goldenRenders(t, "compositions/knowledgebase/examples/dev.rendered.yaml")
	if fs := checkContracts(all, contracts, "123456789012"); len(fs) > 0 {
		t.Fatalf("as composed: %v", fs)
	}
	mutate(t, all, "rag-api-role", func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"name": "p", "policy": `{"Version":"2012-10-17","Statement":[
			{"Sid":"M","Effect":"Allow","Action":["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream"],"Resource":"arn:aws:bedrock:ap-northeast-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"},
			{"Sid":"K","Effect":"Allow","Action":["kendra:Retrieve"],"Resource":"arn:aws:kendra:ap-northeast-1:123456789012:index/x"}]}`}}, "spec", "forProvider", "inlinePolicy")
	})
	fs := checkContracts(all, contracts, "123456789012")
	if len(fs) != 1 || !strings.Contains(fs[0].Reason, "does not allow kendra:Query") {
		t.Errorf("a Korean question calls Query too (QueryForKorean): want one finding, got %v", fs)
	}
}
