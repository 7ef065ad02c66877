package policy

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/tester"
)

const dir = "../../policies"

// TestRegoUnitTests runs policies/*_test.rego, like `opa test policies/`.
func TestRegoUnitTests(t *testing.T) {
	results, err := tester.Run(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 {
		t.Fatal("no rego tests found")
	}
	for _, r := range results {
		if !r.Pass() {
			t.Errorf("%s.%s: %v %s", r.Package, r.Name, r.Fail, r.Error)
		}
	}
}

// TestEveryRuleHasPassAndFailCases keeps the promise of policies/README.md.
func TestEveryRuleHasPassAndFailCases(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.rego"))
	rule := regexp.MustCompile(`"rule":\s*"([a-z0-9-]+)"`)
	var rules []string
	var tests strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, "_test.rego") {
			tests.Write(b)
			continue
		}
		for _, m := range rule.FindAllStringSubmatch(string(b), -1) {
			rules = append(rules, m[1])
		}
	}
	if len(rules) == 0 {
		t.Fatal("found no rules")
	}
	for _, r := range rules {
		base := "test_" + strings.ReplaceAll(r, "-", "_")
		for _, suffix := range []string{"_pass", "_fail"} {
			if !strings.Contains(tests.String(), base+suffix) {
				t.Errorf("rule %s has no %s%s test", r, base, suffix)
			}
		}
	}
}

func TestEval(t *testing.T) {
	ctx := context.Background()
	e, err := Load(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	vpc := map[string]any{
		"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "VPC",
		"spec": map[string]any{"forProvider": map[string]any{"region": "mars-1"}},
	}
	got, err := e.Eval(ctx, Input{Resource: vpc, Source: SourceComposed, Composed: []Ref{{Kind: "VPC"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"flow-logs-present", "region-allowlist", "required-tags"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want rules %v", got, want)
	}
	for i, v := range got {
		if v.Rule != want[i] || v.Fix == "" || v.Field == "" {
			t.Errorf("violation %d = %+v, want rule %s with field and fix", i, v, want[i])
		}
	}
}
