package verify

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/server"
	"github.com/unsilo/unsilo/internal/catalog"
	"github.com/unsilo/unsilo/internal/crds"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/policy"
	"github.com/unsilo/unsilo/internal/render"
	"github.com/unsilo/unsilo/internal/schema"
)

const repo = "../.."

func checker(t *testing.T, apis ...compose.API) *Checker {
	t.Helper()
	ctx := context.Background()
	cat, err := catalog.Load(repo)
	if err != nil {
		t.Fatal(err)
	}
	v := schema.New()
	for _, s := range crds.Sources {
		dir, err := crds.Locate(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.AddCRDDir(dir); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range cat.APIs {
		b, _ := a.XRD.MarshalJSON()
		if err := v.AddXRD(b); err != nil {
			t.Fatal(err)
		}
	}
	pol, err := policy.Load(ctx, filepath.Join(repo, "policies"))
	if err != nil {
		t.Fatal(err)
	}
	if len(apis) == 0 {
		apis = server.APIs()
	}
	fn, err := server.New(slog.New(slog.NewTextHandler(io.Discard, nil)), apis...)
	if err != nil {
		t.Fatal(err)
	}
	return &Checker{Root: repo, Catalog: cat, Schemas: v, Policies: pol, Function: fn}
}

func lines(r *Report) []string {
	out := make([]string, 0, len(r.Findings))
	for _, f := range r.Findings {
		out = append(out, f.String())
	}
	return out
}

// TestRepoVerifies is `unsilo verify` on the repo itself: it must be clean.
func TestRepoVerifies(t *testing.T) {
	c := checker(t)
	ex, err := c.Catalog.Examples()
	if err != nil {
		t.Fatal(err)
	}
	overlays, err := Overlays(filepath.Join(repo, "clusters"), filepath.Join(repo, "platform"), filepath.Join(repo, "teams"))
	if err != nil {
		t.Fatal(err)
	}
	// The pinned release must be on main's history; HEAD is main once this
	// tree is merged (make verify checks against main itself).
	c.Teams, c.Environments, c.Main = true, true, "HEAD"
	r, err := c.Run(context.Background(), ex, overlays)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) > 0 {
		t.Errorf("the repo has findings:\n%s", strings.Join(lines(r), "\n"))
	}
	if r.XRs == 0 || r.Composed == 0 || r.Overlays == 0 || r.Objects == 0 || r.Environments != 4 { // dev, prod and their management clusters
		t.Errorf("verified nothing: %s", r.Summary())
	}
}

func TestBadInputs(t *testing.T) {
	r, err := checker(t).Run(context.Background(),
		[]string{"testdata/bad-network.yaml", "testdata/bad-web.yaml"},
		[]string{"testdata/overlays/broken", "testdata/overlays/ok"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(lines(r), "\n")
	cases := map[string]struct {
		reason string
		want   string
	}{
		"AZCountOne":     {"the XRD's minimum names the field and line", "bad-network.yaml:1: Network/team/one-az: spec.azCount: Invalid value: 1"},
		"UnknownField":   {"a typo in a field name is unknown, as fieldValidation=Strict", "bad-network.yaml:12: Network/team/typo: spec.natmode: unknown field"},
		"UnknownRegion":  {"the region enum", `bad-network.yaml:12: Network/team/typo: spec.region: Unsupported value: "mars-1"`},
		"CELHostBits":    {"the XRD's CEL rule message", "spec.cidr: Invalid value: \"10.0.1.0/16\": must not have host bits set"},
		"Missing":        {"required fields", "bad-network.yaml:23: Network/team/missing: spec.region: Required value"},
		"Policy":         {"a policy violation names rule and fix, once for all resources", "Network/team/region-not-allowed -> 50 resources"},
		"FunctionError":  {"what only the function can judge comes back as a render finding", "bad-network.yaml:41: Network/team/public-range: cannot compose Network team/public-range: spec.cidr"},
		"Overlay":        {"a broken overlay is named", "testdata/overlays/broken: kustomization: kustomize build"},
		"NoNetwork":      {"a WebPortal pointing at a Network that does not exist", "bad-web.yaml:1: WebPortal/shop/orphan: cannot compose WebPortal shop/orphan: spec.networkRef.name: invalid value does-not-exist: no Network of that name"},
		"MinOverMax":     {"min > max is refused by the XRD's CEL rule", "bad-web.yaml:14: WebPortal/shop/inverted: spec.instances.min: Invalid value: min must not exceed max"},
		"UnknownType":    {"an instance type the platform does not know", `bad-web.yaml:14: WebPortal/shop/inverted: spec.instances.type: Unsupported value: "t3.huge"`},
		"HugeDB":         {"no db.r6g.16xlarge by accident", `spec.database.instanceClass: Unsupported value: "db.r6g.16xlarge"`},
		"DevAllowlist":   {"sizes the platform knows but dev does not allow", "WebPortal/shop/big-in-dev -> Instance database: spec.forProvider.instanceClass: db.r7g.xlarge is not allowed in dev"},
		"DevTypes":       {"the instance allowlist per environment", "WebPortal/shop/big-in-dev -> LaunchTemplate launch-template: spec.forProvider.instanceType: m7g.xlarge is not allowed in dev"},
		"CloudFrontCert": {"a CloudFront certificate outside us-east-1", "bad-web.yaml:51: StaticSite/shop/wrong-cert: spec.domain.certificateArn: Invalid value: \"arn:aws:acm:ap-northeast-2:123456789012:certificate/0b9a0e6c-9f0e\": must be an ACM certificate ARN in us-east-1"},
		"ManifestField":  {"overlay output is schema-checked", "ConfigMap/x/settings: bogus: unknown field"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(got, tc.want) {
				t.Errorf("%s: no finding containing %q in:\n%s", tc.reason, tc.want, got)
			}
		})
	}
	if strings.Count(got, "region-allowlist") != 1 {
		t.Errorf("the region policy should be one grouped line:\n%s", got)
	}
}

// badAPI composes resources the provider's schema refuses, to prove that
// composed resources are validated, not just XRs.
type badAPI struct{}

func (badAPI) Kind() string                      { return "Network" }
func (badAPI) AddToScheme(*runtime.Scheme) error { return nil }
func (badAPI) Compose(context.Context, *compose.Request) (*compose.Result, error) {
	res := compose.NewResult()
	res.Add("vpc", &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "VPC",
		"spec": map[string]any{"forProvider": map[string]any{"region": "ap-northeast-2", "cidrBlok": "10.0.0.0/16"}},
	}})
	res.Add("subnet", &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "Subnet",
		"spec": map[string]any{"forProvider": map[string]any{"mapPublicIpOnLaunch": "yes"}},
	}})
	return res, nil
}

func TestComposedResourcesAreSchemaChecked(t *testing.T) {
	r, err := checker(t, badAPI{}).Run(context.Background(), []string{filepath.Join(repo, "compositions/network/examples/dev.yaml")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(lines(r), "\n")
	for _, want := range []string{
		"-> VPC vpc: spec.forProvider.cidrBlok: unknown field",
		"-> Subnet subnet: spec.forProvider.mapPublicIpOnLaunch: Invalid value: \"string\"",
		"-> Subnet subnet: spec.forProvider.region: Required value",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no finding containing %q in:\n%s", want, got)
		}
	}
}

// TestUsagesMatchTheirSchema renders the prod example with every resource
// observed, so Usages are composed, and validates them against Crossplane's
// own Usage CRD.
func TestUsagesMatchTheirSchema(t *testing.T) {
	c := checker(t)
	objs, err := manifest.ReadFile(filepath.Join(repo, "compositions/network/examples/prod.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	xr := objs[0].DeepCopy()
	xr.SetUID(types.UID("00000000-0000-0000-0000-000000000001"))
	first, err := render.Render(context.Background(), c.Function, render.Input{XR: xr})
	if err != nil {
		t.Fatal(err)
	}
	observed := make([]unstructured.Unstructured, 0, len(first.Composed))
	for _, cd := range first.Composed {
		o := *cd.DeepCopy()
		o.SetName(o.GetGenerateName() + "x")
		observed = append(observed, o)
	}
	out, err := render.Render(context.Background(), c.Function, render.Input{XR: xr, Observed: observed})
	if err != nil {
		t.Fatal(err)
	}
	usages := 0
	for i := range out.Composed {
		if out.Composed[i].GetKind() != "Usage" {
			continue
		}
		usages++
		if fs := c.Schemas.Validate(&out.Composed[i]); len(fs) > 0 {
			t.Errorf("%s: %v", out.Composed[i].GetAnnotations()[render.AnnotationResourceName], fs)
		}
	}
	if usages == 0 {
		t.Fatal("no Usages composed once resources were observed")
	}
}

func TestKubeconfigSecretNameClash(t *testing.T) {
	r, err := checker(t).Run(context.Background(), []string{"testdata/name-clash.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(lines(r), "\n")
	want := "name-clash.yaml:17: Secret/platform/tools-kubeconfig: metadata.name: Secret platform/tools-kubeconfig is also Cluster/platform/tools -> kubeconfig; one would overwrite the other [name-clash]"
	if !strings.Contains(got, want) {
		t.Errorf("want %q in:\n%s", want, got)
	}
}
