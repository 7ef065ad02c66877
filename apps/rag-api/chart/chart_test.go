// Package chart holds rag-api's Helm chart; this test renders it with the
// Helm library the way `make verify` does.
package chart

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"

	"github.com/unsilo/unsilo/functions/knowledgebase"
)

func render(t *testing.T, vals map[string]any) (map[string]string, error) {
	t.Helper()
	ch, err := loader.Load(".")
	if err != nil {
		t.Fatal(err)
	}
	v, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: "rag-api", Namespace: "rag"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return engine.Render(ch, v)
}

func TestChartRenders(t *testing.T) {
	out, err := render(t, map[string]any{"kendraIndexId": "idx-1", "bedrock": map[string]any{"modelId": "apac.anthropic.claude-3-haiku-20240307-v1:0", "guardrailId": "gr1"}})
	if err != nil {
		t.Fatal(err)
	}
	dep := out["rag-api/templates/deployment.yaml"]
	for _, want := range []string{"--kendra-index-id=idx-1", "--bedrock-guardrail-id=gr1", "serviceAccountName: rag-api", "readOnlyRootFilesystem: true"} {
		if !strings.Contains(dep, want) {
			t.Errorf("deployment lacks %q:\n%s", want, dep)
		}
	}
	if svc := out["rag-api/templates/service.yaml"]; !strings.Contains(svc, "type: ClusterIP") {
		t.Errorf("service:\n%s", svc)
	}
	if _, err := render(t, map[string]any{"bedrock": map[string]any{"modelId": "m"}}); err == nil || !strings.Contains(err.Error(), "kendraIndexId or knowledgeBase is required") {
		t.Errorf("missing kendra index accepted: %v", err)
	}
	out, err = render(t, map[string]any{"knowledgeBase": "handbook", "bedrock": map[string]any{"modelId": "m"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--kendra-index-id=$(KENDRA_INDEX_ID)", "name: \"" + knowledgebase.ConfigMapName("handbook") + "\"", "key: KENDRA_INDEX_ID"} {
		if !strings.Contains(out["rag-api/templates/deployment.yaml"], want) {
			t.Errorf("knowledgeBase: deployment lacks %q:\n%s", want, out["rag-api/templates/deployment.yaml"])
		}
	}
	out, err = render(t, map[string]any{"retriever": "embedded", "generator": "extractive"})
	if err != nil || strings.Contains(out["rag-api/templates/deployment.yaml"], "--bedrock-model") {
		t.Errorf("embedded defaults: %v", err)
	}
	if _, err := render(t, map[string]any{"retriever": "embedded", "generator": "extractive", "oidc": map[string]any{"issuer": "https://login.example/"}}); err == nil ||
		!strings.Contains(err.Error(), "oidc.audience is required") {
		t.Errorf("an issuer without an audience accepted: %v", err)
	}
	out, err = render(t, map[string]any{"retriever": "embedded", "generator": "extractive", "ingest": []any{"s3://docs/handbook/", "/docs"},
		"persistence": map[string]any{"existingClaim": "rag-index"},
		"oidc":        map[string]any{"issuer": "https://login.example/", "audience": "rag-api", "uiClientId": "rag-ui", "uiToken": "id_token"}})
	if err != nil {
		t.Fatal(err)
	}
	dep = out["rag-api/templates/deployment.yaml"]
	for _, want := range []string{"--ingest=s3://docs/handbook/", "--ingest=/docs", "--watch=1m", "claimName: \"rag-index\"", "--oidc-ui-client-id=rag-ui",
		"--oidc-ui-token=id_token", "--oidc-user-claim=email", "XDG_CACHE_HOME", "mountPath: /tmp"} {
		if !strings.Contains(dep, want) {
			t.Errorf("embedded with ingest: deployment lacks %q:\n%s", want, dep)
		}
	}
}
