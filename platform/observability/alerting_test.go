//go:build alerting

// Package observability tests the platform's alerting as code with the real
// Prometheus and Alertmanager tools: every PrometheusRule under
// platform/observability passes `promtool check rules` and its unit tests
// (`promtool test rules`), and Alertmanager's config passes `amtool
// check-config`. Run by `make test-alerting`, which builds both tools.
package observability

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const dir = "."

func tool(t *testing.T, env string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		t.Fatalf("%s is not set: run make test-alerting", env)
	}
	return p
}

func run(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	t.Logf("%s\n%s", strings.Join(cmd.Args, " "), out)
}

// TestPrometheusRules extracts each PrometheusRule's spec (a Prometheus
// rule file) next to its tests and runs promtool on both.
func TestPrometheusRules(t *testing.T) {
	promtool := tool(t, "PROMTOOL")
	files, err := filepath.Glob(filepath.Join(dir, "rules", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rules under %s/rules: %v", dir, err)
	}
	work := t.TempDir()
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var pr struct {
			Kind string         `json:"kind"`
			Spec map[string]any `json:"spec"`
		}
		if err := yaml.UnmarshalStrict(raw, &pr); err != nil && !strings.Contains(err.Error(), "unknown field") {
			t.Fatalf("%s: %v", f, err)
		}
		if pr.Kind != "PrometheusRule" {
			t.Fatalf("%s: kind %q, want PrometheusRule", f, pr.Kind)
		}
		spec, err := yaml.Marshal(pr.Spec)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		ruleFile := filepath.Join(work, name+".rules.yaml")
		if err := os.WriteFile(ruleFile, spec, 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, exec.Command(promtool, "check", "rules", ruleFile))
		test := filepath.Join(dir, "rules", "tests", name+".test.yaml")
		if _, err := os.Stat(test); err != nil {
			t.Fatalf("%s has no unit tests at %s", f, test)
		}
		body, err := os.ReadFile(test)
		if err != nil {
			t.Fatal(err)
		}
		local := filepath.Join(work, name+".test.yaml")
		if err := os.WriteFile(local, body, 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, exec.Command(promtool, "test", "rules", local))
	}
}

func TestAlertmanagerConfig(t *testing.T) {
	amtool := tool(t, "AMTOOL")
	cfg := filepath.Join(dir, "alertmanager.conf.yaml")
	run(t, exec.Command(amtool, "check-config", cfg))

	// Routing: a critical alert reaches alert-bridge, and so does the
	// Watchdog (the heartbeat of alert-bridge's dead-man's switch).
	for labels, want := range map[string]string{
		"alertname=PodCrashLooping severity=critical": "alert-bridge",
		"alertname=Watchdog severity=none":            "alert-bridge",
	} {
		out, err := exec.Command(amtool, append([]string{"config", "routes", "test", "--config.file=" + cfg}, strings.Fields(labels)...)...).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s routes to %q (%v), want %s", labels, strings.TrimSpace(string(out)), err, want)
		}
	}
}
