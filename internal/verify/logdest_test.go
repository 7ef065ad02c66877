package verify

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

// goldenRenders reads converged renders from the golden files (they hold
// everything each XR will own), one convergedXR per XR, with the XR as the
// example beside the golden file has it (the render shows only status).
func goldenRenders(t *testing.T, files ...string) []convergedXR {
	t.Helper()
	var out []convergedXR
	for _, f := range files {
		objs, err := manifest.ReadFile(filepath.Join(repo, f))
		if err != nil {
			t.Fatal(err)
		}
		src, err := manifest.ReadFile(filepath.Join(repo, strings.TrimSuffix(f, ".rendered.yaml")+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]manifest.Object{}
		for _, o := range src {
			byID[o.ID()] = o
		}
		for _, o := range objs {
			if strings.HasPrefix(o.GetAPIVersion(), "platform.unsilo.dev/") {
				xr, ok := byID[o.ID()]
				if !ok {
					t.Fatalf("%s: %s is in no example", f, o.ID())
				}
				out = append(out, convergedXR{xr: xr, out: &render.Output{XR: o.Unstructured}})
				continue
			}
			last := out[len(out)-1].out
			last.Composed = append(last.Composed, *o.Unstructured)
		}
	}
	return out
}

// mutate changes the first composed resource named comp.
func mutate(t *testing.T, all []convergedXR, comp string, f func(u *unstructured.Unstructured)) {
	t.Helper()
	for _, c := range all {
		for i := range c.out.Composed {
			if c.out.Composed[i].GetAnnotations()[render.AnnotationResourceName] == comp {
				f(&c.out.Composed[i])
				return
			}
		}
	}
	t.Fatalf("no composed resource %s", comp)
}

func setPolicy(t *testing.T, u *unstructured.Unstructured, edit func(doc map[string]any)) {
	t.Helper()
	var doc map[string]any
	s, _, _ := unstructured.NestedString(u.Object, "spec", "forProvider", "policy")
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	b, _ := json.Marshal(doc)
	_ = unstructured.SetNestedField(u.Object, string(b), "spec", "forProvider", "policy")
}

// statement returns the policy statement with this Sid.
func statement(t *testing.T, doc map[string]any, sid string) map[string]any {
	t.Helper()
	for _, s := range doc["Statement"].([]any) {
		if m := s.(map[string]any); m["Sid"] == sid {
			return m
		}
	}
	t.Fatalf("no statement %s", sid)
	return nil
}

// TestLogDestinations: the dev lake admits every writer the dev examples
// configure (flow logs with Hive partitions, ALB, CloudTrail, Firehose,
// CloudFront v2), and each way a destination would refuse its writer is a
// finding naming the writer, the bucket and the refused request.
func TestLogDestinations(t *testing.T) {
	files := []string{
		"compositions/datalake/examples/dev.rendered.yaml", "compositions/network/examples/dev.rendered.yaml",
		"compositions/webportal/examples/dev.rendered.yaml", "compositions/staticsite/examples/dev.rendered.yaml",
	}
	const acct = "123456789012"
	cases := map[string]struct {
		reason string
		edit   func(t *testing.T, all []convergedXR)
		want   string // substring of every finding (at least one); "" for none
	}{
		"AsComposed": {"the examples as composed deliver", func(*testing.T, []convergedXR) {}, ""},
		"PlainFlowLogPrefixOnly": {"with Hive partitions the plain AWSLogs/<acct>/ grant misses the key (issue 13, 5)", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "raw-bucket-policy", func(u *unstructured.Unstructured) {
				setPolicy(t, u, func(d map[string]any) {
					statement(t, d, "VPCFlowLogsWrite")["Resource"] = "arn:aws:s3:::unsilo-lake-raw-dev/vpcflow/AWSLogs/" + acct + "/*"
				})
			})
		}, "VPC Flow Logs: bucket unsilo-lake-raw-dev (DataLake/platform/lake) refuses s3:PutObject by service delivery.logs.amazonaws.com on arn:aws:s3:::unsilo-lake-raw-dev/vpcflow/AWSLogs/aws-account-id=" + acct},
		"FlowLogWrongAccount": {"a SourceAccount of another account admits nobody", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "raw-bucket-policy", func(u *unstructured.Unstructured) {
				setPolicy(t, u, func(d map[string]any) {
					statement(t, d, "VPCFlowLogsWrite")["Condition"].(map[string]any)["StringEquals"].(map[string]any)["aws:SourceAccount"] = "999999999999"
				})
			})
		}, "VPC Flow Logs: bucket unsilo-lake-raw-dev"},
		"ELBServicePrincipalOnly": {"in Seoul (opened before August 2022) ELB writes as account 600734575887, not the service principal", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "alb-bucket-policy", func(u *unstructured.Unstructured) {
				setPolicy(t, u, func(d map[string]any) {
					statement(t, d, "ELBAccessLogsWrite")["Principal"] = map[string]any{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
				})
			})
		}, "ELB access logs: bucket unsilo-lake-alb-dev (DataLake/platform/lake) refuses s3:PutObject by arn:aws:iam::600734575887:root"},
		"ALBToKMSBucket": {"ELB writes only to SSE-S3 buckets", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "alb", func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(u.Object, "unsilo-lake-raw-dev", "spec", "forProvider", "accessLogs", "bucket")
			})
		}, "is SSE-KMS and this service writes only to SSE-S3 buckets"},
		"UnknownBucket": {"a bucket no XR composes cannot be shown to admit the writer", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "flow-log", func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(u.Object, "arn:aws:s3:::somewhere-else/vpcflow/", "spec", "forProvider", "logDestination")
			})
		}, "bucket somewhere-else is composed by no XR"},
		"LegacyCloudFrontLogging": {"legacy logging needs ACLs, which the lake's buckets disable (issue 13, 1)", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "distribution", func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"bucket": "unsilo-lake-raw-dev.s3.amazonaws.com", "prefix": "cloudfront/"}}, "spec", "forProvider", "loggingConfig")
			})
		}, "has ACLs disabled (BucketOwnerEnforced)"},
		"CloudFrontOutsidePrefix": {"the v2 delivery's suffix path must lie under the admitted cloudfront/ prefix", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "logs-delivery", func(u *unstructured.Unstructured) {
				s, _, _ := unstructured.NestedString(u.Object, "spec", "forProvider", "desiredState")
				_ = unstructured.SetNestedField(u.Object, strings.Replace(s, "cloudfront/", "cf/", 1), "spec", "forProvider", "desiredState")
			})
		}, "CloudFront standard logging v2: bucket unsilo-lake-raw-dev (DataLake/platform/lake) refuses s3:PutObject by service delivery.logs.amazonaws.com on arn:aws:s3:::unsilo-lake-raw-dev/cf/"},
		"TrailOtherTrail": {"CloudTrail's write names its trail in aws:SourceArn", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "raw-bucket-policy", func(u *unstructured.Unstructured) {
				setPolicy(t, u, func(d map[string]any) {
					statement(t, d, "CloudTrailWrite")["Condition"].(map[string]any)["StringEquals"].(map[string]any)["aws:SourceArn"] = "arn:aws:cloudtrail:ap-northeast-2:" + acct + ":trail/other"
				})
			})
		}, "CloudTrail: bucket unsilo-lake-raw-dev (DataLake/platform/lake) refuses s3:PutObject by service cloudtrail.amazonaws.com"},
		"TrailKeyRefuses": {"an SSE-KMS destination's key must let CloudTrail make data keys", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "key", func(u *unstructured.Unstructured) {
				setPolicy(t, u, func(d map[string]any) {
					statement(t, d, "CloudTrailEncryptsLogs")["Sid"] = "Gone"
					delete(statement(t, d, "Gone"), "Principal")
					statement(t, d, "Gone")["Principal"] = map[string]any{"Service": "x.amazonaws.com"}
				})
			})
		}, "the key of bucket unsilo-lake-raw-dev (DataLake/platform/lake) refuses kms:GenerateDataKey by service cloudtrail.amazonaws.com"},
		"FirehoseRoleOutsidePrefix": {"Firehose writes as its role: the role must allow its prefix", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "firehose", func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(u.Object, "elsewhere/", "spec", "forProvider", "extendedS3Configuration", "prefix")
			})
		}, "Firehose: bucket unsilo-lake-raw-dev (DataLake/platform/lake) refuses s3:PutObject by arn:aws:iam::" + acct + ":role/firehose-role on arn:aws:s3:::unsilo-lake-raw-dev/elsewhere/"},
		"UnknownOperator": {"a policy the evaluator cannot read fails closed", func(t *testing.T, all []convergedXR) {
			mutate(t, all, "alb-bucket-policy", func(u *unstructured.Unstructured) {
				setPolicy(t, u, func(d map[string]any) {
					statement(t, d, "ELBAccessLogsWrite")["Condition"] = map[string]any{"DateGreaterThan": map[string]any{"aws:CurrentTime": "2020-01-01T00:00:00Z"}}
				})
			})
		}, "cannot be evaluated"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			all := goldenRenders(t, files...)
			tc.edit(t, all)
			fs := checkLogDestinations(all, acct)
			switch {
			case tc.want == "" && len(fs) > 0:
				t.Errorf("%s: unexpected %v", tc.reason, fs)
			case tc.want != "" && len(fs) == 0:
				t.Errorf("%s: want a finding with %q, got none", tc.reason, tc.want)
			}
			for _, f := range fs {
				if tc.want != "" && !strings.Contains(f.Reason, tc.want) {
					t.Errorf("%s: want every finding to say %q, got %v", tc.reason, tc.want, f)
				}
			}
		})
	}
}

// TestLogWritersFound: the check sees every writer the examples configure
// (a check that found none would pass everything).
func TestLogWritersFound(t *testing.T) {
	all := goldenRenders(t, "compositions/datalake/examples/dev.rendered.yaml", "compositions/network/examples/dev.rendered.yaml",
		"compositions/webportal/examples/dev.rendered.yaml", "compositions/staticsite/examples/dev.rendered.yaml")
	got := map[string]int{}
	for _, c := range all {
		for i := range c.out.Composed {
			for _, w := range writersOf(c, &c.out.Composed[i], "123456789012") {
				got[w.what]++
			}
		}
	}
	want := map[string]int{"VPC Flow Logs": 2, "ELB access logs": 1, "CloudTrail": 1, "Firehose": 1, "CloudFront standard logging v2": 1}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: found %d writers, want %d (all: %v)", k, got[k], n, got)
		}
	}
}
