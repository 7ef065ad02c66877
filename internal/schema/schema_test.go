package schema

import (
	"context"
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/unsilo/unsilo/internal/crds"
)

func providerDir(tb testing.TB) string {
	tb.Helper()
	dir, err := crds.Locate(context.Background(), crds.Sources[0])
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

func obj(tb testing.TB, y string) *unstructured.Unstructured {
	tb.Helper()
	m := map[string]any{}
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		tb.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	if err := u.UnmarshalJSON(j); err != nil {
		tb.Fatal(err)
	}
	return u
}

const xrdYAML = `
apiVersion: apiextensions.crossplane.io/v2
kind: CompositeResourceDefinition
metadata: {name: things.example.org}
spec:
  group: example.org
  names: {kind: Thing, plural: things}
  versions:
  - name: v1
    served: true
    referenceable: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1, maximum: 10}
              color: {type: string, enum: [red, blue], default: red}
              name:
                type: string
                x-kubernetes-validations:
                - rule: self.startsWith('t-')
                  message: name must start with t-
`

func TestValidate(t *testing.T) {
	v := New()
	if err := v.AddCRDDir(providerDir(t)); err != nil {
		t.Fatal(err)
	}
	if err := v.AddXRD([]byte(xrdYAML)); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		reason string
		in     string
		want   []string // substrings of findings, in order; empty = valid
	}{
		"GoodVPC": {"a valid namespaced VPC", `
apiVersion: ec2.aws.m.upbound.io/v1beta1
kind: VPC
metadata: {generateName: net-, namespace: team}
spec: {forProvider: {region: eu-west-1, cidrBlock: 10.0.0.0/16}}`, nil},
		"UnknownField": {"fieldValidation=Strict names the unknown field", `
apiVersion: ec2.aws.m.upbound.io/v1beta1
kind: VPC
metadata: {name: net, namespace: team}
spec: {forProvider: {region: eu-west-1, cidrBlok: 10.0.0.0/16}}`, []string{"spec.forProvider.cidrBlok: unknown field"}},
		"WrongType": {"OpenAPI types", `
apiVersion: ec2.aws.m.upbound.io/v1beta1
kind: Subnet
metadata: {name: net, namespace: team}
spec: {forProvider: {region: eu-west-1, mapPublicIpOnLaunch: "yes"}}`, []string{"spec.forProvider.mapPublicIpOnLaunch: Invalid value: \"string\""}},
		"ProviderCEL": {"the provider's CEL rule, after defaulting managementPolicies", `
apiVersion: ec2.aws.m.upbound.io/v1beta1
kind: AMI
metadata: {name: img, namespace: team}
spec: {forProvider: {region: eu-west-1}}`, []string{"spec: Invalid value: spec.forProvider.name is a required parameter"}},
		"NoNamespace": {"namespaced kinds need a namespace", `
apiVersion: ec2.aws.m.upbound.io/v1beta1
kind: VPC
metadata: {name: net}
spec: {forProvider: {region: eu-west-1}}`, []string{"metadata.namespace: Required value"}},
		"BadName": {"names are DNS subdomains", `
apiVersion: ec2.aws.m.upbound.io/v1beta1
kind: VPC
metadata: {name: Net_1, namespace: team}
spec: {forProvider: {region: eu-west-1}}`, []string{"metadata.name: Invalid value: \"Net_1\""}},
		"UnknownKind": {"an unknown kind is a finding, not a pass", `
apiVersion: ec2.aws.m.upbound.io/v1beta1
kind: Spaceship
metadata: {name: x, namespace: team}`, []string{"apiVersion: no CRD or schema known for kind Spaceship"}},
		"UnservedVersion": {"versions not served are refused", `
apiVersion: ec2.aws.m.upbound.io/v9
kind: VPC
metadata: {name: x, namespace: team}`, []string{"version v9 of VPC.ec2.aws.m.upbound.io is not served"}},
		"GoodXR": {"an XR with the injected spec.crossplane fields", `
apiVersion: example.org/v1
kind: Thing
metadata: {name: t, namespace: team}
spec: {size: 3, name: t-1, crossplane: {compositionRef: {name: c}}}`, nil},
		"XRRules": {"XRD minimum, enum and CEL", `
apiVersion: example.org/v1
kind: Thing
metadata: {name: t, namespace: team}
spec: {size: 11, color: green, name: x}`, []string{"spec.color: Unsupported value: \"green\"", "spec.name: Invalid value: \"x\": name must start with t-", "spec.size: Invalid value: 11"}},
		"XRRequired": {"XRD required fields", `
apiVersion: example.org/v1
kind: Thing
metadata: {name: t, namespace: team}
spec: {}`, []string{"spec.size: Required value"}},
		"CoreUnknownField": {"core kinds are strictly decoded", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: team}
spec: {replicas: 1, replica: 2, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}`, []string{"spec.replica: unknown field"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := v.Validate(obj(t, tc.in))
			if len(tc.want) == 0 && len(got) > 0 {
				t.Fatalf("%s: want no findings, got %v", tc.reason, got)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%s: want %d findings, got %v", tc.reason, len(tc.want), got)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i].String(), w) {
					t.Errorf("%s: finding %d = %q, want it to contain %q", tc.reason, i, got[i], w)
				}
			}
		})
	}
}

func TestAddXRDRejectsOtherKinds(t *testing.T) {
	if err := New().AddXRD([]byte("apiVersion: v1\nkind: ConfigMap\n")); err == nil {
		t.Fatal("want an error for a non-XRD")
	}
}

func TestAddCRDDirSkipsNonCRDs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/kustomization.yaml", []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v := New()
	if err := v.AddCRDDir(dir); err != nil {
		t.Fatal(err)
	}
	if v.Known("kustomize.config.k8s.io/v1beta1", "Kustomization") {
		t.Error("a kustomization beside CRDs is not a CRD")
	}
}

// BenchmarkColdVPC is what `unsilo verify` pays to start: index the
// provider's 2,000 CRD files and compile the VPC schema on first use.
func BenchmarkColdVPC(b *testing.B) {
	dir := providerDir(b)
	vpc := obj(b, "apiVersion: ec2.aws.m.upbound.io/v1beta1\nkind: VPC\nmetadata: {name: vpc, namespace: t}\nspec: {forProvider: {region: eu-west-1}}")
	for b.Loop() {
		v := New()
		if err := v.AddCRDDir(dir); err != nil {
			b.Fatal(err)
		}
		if fs := v.Validate(vpc); len(fs) > 0 {
			b.Fatal(fs)
		}
	}
}

func BenchmarkWarmVPC(b *testing.B) {
	v := New()
	if err := v.AddCRDDir(providerDir(b)); err != nil {
		b.Fatal(err)
	}
	vpc := obj(b, "apiVersion: ec2.aws.m.upbound.io/v1beta1\nkind: VPC\nmetadata: {name: vpc, namespace: t}\nspec: {forProvider: {region: eu-west-1, cidrBlock: 10.0.0.0/16}}")
	v.Validate(vpc)
	for b.Loop() {
		if fs := v.Validate(vpc); len(fs) > 0 {
			b.Fatal(fs)
		}
	}
}

// TestAddXRDEnforcesCRDRules: the API server refuses a CRD whose CEL rules
// may cost too much; Crossplane then never serves the XR. verify must say
// so before the cluster does.
func TestAddXRDEnforcesCRDRules(t *testing.T) {
	expensive := strings.Replace(xrdYAML, "              name:\n", `              cidrs:
                type: array
                items:
                  type: string
                  x-kubernetes-validations:
                  - rule: isCIDR(self) && cidr(self).prefixLength() > 0
              name:
`, 1)
	err := New().AddXRD([]byte(expensive))
	if err == nil || !strings.Contains(err.Error(), "estimated rule cost exceeds budget") {
		t.Fatalf("want the API server's cost budget error, got %v", err)
	}
}
