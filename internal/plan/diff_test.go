package plan

import (
	"bytes"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func snap(xrs ...XRSnapshot) Snapshot { return Snapshot{XRs: xrs} }

func res(kind, api, ext string, fp map[string]any) Resource {
	return Resource{Kind: kind, APIVersion: api, ExternalName: ext, ForProvider: fp}
}

// TestDiffMarkdownGolden pins the pull-request comment. Refresh with
// `make golden`.
func TestDiffMarkdownGolden(t *testing.T) {
	db := res("Instance", "rds.aws.m.upbound.io/v1beta1", "", map[string]any{"instanceClass": "db.t4g.small", "multiAz": true})
	base := snap(
		XRSnapshot{ID: "WebPortal/shop/shop", Group: "teams/shop", Resources: map[string]Resource{
			"database": db,
			"asg":      res("AutoscalingGroup", "autoscaling.aws.m.upbound.io/v1beta1", "", map[string]any{"maxSize": 3.0}),
			"old-rule": res("SecurityGroupIngressRule", "ec2.aws.m.upbound.io/v1beta1", "", nil),
		}},
		XRSnapshot{ID: "StaticSite/web/www", Group: "teams/web", Resources: map[string]Resource{
			"bucket": res("Bucket", "s3.aws.m.upbound.io/v1beta1", "www-prod", nil),
		}},
		XRSnapshot{ID: "Network/old/net", Group: "teams/old", Resources: map[string]Resource{
			"vpc": res("VPC", "ec2.aws.m.upbound.io/v1beta1", "", map[string]any{"cidrBlock": "10.0.0.0/16"}),
		}},
		XRSnapshot{ID: "Network/same/net", Group: "teams/same", Resources: map[string]Resource{"vpc": res("VPC", "ec2.aws.m.upbound.io/v1beta1", "", nil)}},
		XRSnapshot{ID: "StaticSite/web/kept", Group: "teams/web", Protected: true, Resources: map[string]Resource{
			"bucket": res("Bucket", "s3.aws.m.upbound.io/v1beta1", "kept-prod", nil),
		}},
		XRSnapshot{ID: "StaticSite/web/exposed", Group: "teams/web", Protected: true, Resources: map[string]Resource{
			"bucket": res("Bucket", "s3.aws.m.upbound.io/v1beta1", "exposed-prod", nil),
		}},
	)
	head := snap(
		XRSnapshot{ID: "StaticSite/web/exposed", Group: "teams/web", Resources: map[string]Resource{
			"bucket": res("Bucket", "s3.aws.m.upbound.io/v1beta1", "exposed-prod", nil),
		}},
		XRSnapshot{ID: "WebPortal/shop/shop", Group: "teams/shop", Findings: []string{"`spec.instances.max`: 10 instances exceed the team's maxAsgSize 4 [team-quota]"}, Resources: map[string]Resource{
			"database": res("Instance", "rds.aws.m.upbound.io/v1beta1", "", map[string]any{"instanceClass": "db.t4g.medium", "multiAz": true}),
			"asg":      res("AutoscalingGroup", "autoscaling.aws.m.upbound.io/v1beta1", "", map[string]any{"maxSize": 10.0}),
			"new-rule": res("SecurityGroupIngressRule", "ec2.aws.m.upbound.io/v1beta1", "", nil),
		}},
		XRSnapshot{ID: "StaticSite/web/www", Group: "teams/web", Resources: map[string]Resource{
			"bucket": res("Bucket", "s3.aws.m.upbound.io/v1beta1", "www-prod-2", nil),
		}},
		XRSnapshot{ID: "Network/new/net", Group: "teams/new", Error: "spec.cidr: too small", Resources: map[string]Resource{}},
		XRSnapshot{ID: "Network/same/net", Group: "teams/same", Resources: map[string]Resource{"vpc": res("VPC", "ec2.aws.m.upbound.io/v1beta1", "", nil)}},
	)
	var buf bytes.Buffer
	if err := Markdown(&buf, "main", Diff(base, head)); err != nil {
		t.Fatal(err)
	}
	golden := "testdata/diff.md"
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), buf.String()); d != "" {
		t.Errorf("markdown changed; run `make golden` if intended (-want +got):\n%s", d)
	}
}

// TestProtectedRemoval: a deletion-protected XR that leaves git is kept
// (Argo CD does not prune it), and nothing is called lost; dropping the
// protection is called out first.
func TestProtectedRemoval(t *testing.T) {
	bucket := map[string]Resource{"bucket": res("Bucket", "s3.aws.m.upbound.io/v1beta1", "b", nil)}
	ds := Diff(snap(XRSnapshot{ID: "StaticSite/a/kept", Protected: true, Resources: bucket}, XRSnapshot{ID: "StaticSite/a/open", Protected: true, Resources: bucket}),
		snap(XRSnapshot{ID: "StaticSite/a/open", Resources: bucket}))
	if len(ds) != 2 || ds[0].ID != "StaticSite/a/kept" || ds[0].Status != "orphaned" || ds[0].Changes[0].Danger || ds[0].Changes[0].Action != "orphan" {
		t.Fatalf("a protected XR leaving git is orphaned, not deleted: %+v", ds)
	}
	if !ds[1].Unprotected {
		t.Errorf("dropping Prune=false,Delete=false must be flagged: %+v", ds[1])
	}
	unprotected := Diff(snap(XRSnapshot{ID: "StaticSite/a/gone", Resources: bucket}), snap())
	if unprotected[0].Status != "removed" || !unprotected[0].Changes[0].Danger {
		t.Errorf("an unprotected XR leaving git deletes its bucket: %+v", unprotected)
	}
}

func TestNoChangeSaysSo(t *testing.T) {
	s := snap(XRSnapshot{ID: "Network/a/b", Group: "g", Resources: map[string]Resource{"vpc": res("VPC", "ec2.aws.m.upbound.io/v1beta1", "", nil)}})
	var buf bytes.Buffer
	if err := Markdown(&buf, "main", Diff(s, s)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("No AWS resources change.")) {
		t.Errorf("got %s", buf.String())
	}
}
