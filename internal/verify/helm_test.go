package verify

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestRenderChartPerCluster renders the apps' charts the way a cluster's
// Application asks (its value files in order) and checks that a missing
// required value is an error, not an empty manifest.
func TestRenderChartPerCluster(t *testing.T) {
	root := filepath.Join("..", "..")
	cases := []struct {
		chart, namespace string
		files            []string
		inline           map[string]any // valuesObject, as the environment's settings fill it
		kind, arg        string
		wantErr          string
	}{
		{chart: "apps/log-shipper/chart", namespace: "lake", files: []string{"values.yaml", "../deploy/prod.yaml"}, inline: map[string]any{"lake": "s3://unsilo-lake-curated-prod/logs/", "watch": map[string]any{"queueUrl": "https://sqs.ap-northeast-2.amazonaws.com/444455556666/unsilo-prod-ingest"}}, kind: "StatefulSet", arg: "--out=s3://unsilo-lake-curated-prod/logs/"},
		{chart: "apps/log-shipper/chart", namespace: "lake", files: []string{"values.yaml"}, wantErr: "lake must be s3://"},
		{chart: "apps/log-shipper/chart", namespace: "lake", files: []string{"values.yaml", "../deploy/prod.yaml"}, inline: map[string]any{"lake": "s3://unsilo-lake-curated-prod/logs/"}, wantErr: "watch.queueUrl must be"},
		{chart: "apps/log-shipper/chart", namespace: "lake", files: []string{"values.yaml", "../deploy/prod.yaml"}, inline: map[string]any{"lake": "s3://unsilo-lake-curated-prod/logs/", "watch": map[string]any{"queueUrl": "https://sqs.ap-northeast-2.amazonaws.com/444455556666/unsilo-prod-ingest"}}, kind: "Deployment", arg: "--queue=https://sqs.ap-northeast-2.amazonaws.com/444455556666/unsilo-prod-ingest"},
		{chart: "apps/rag-api/chart", namespace: "knowledge", files: []string{"values.yaml", "../deploy/dev.yaml"}, kind: "Deployment", arg: "--kendra-index-id=$(KENDRA_INDEX_ID)"},
		{chart: "apps/rag-api/chart", namespace: "knowledge", files: []string{"values.yaml"}, wantErr: "kendraIndexId or knowledgeBase is required"},
		{chart: "apps/rag-api/chart", namespace: "knowledge", files: []string{"values.yaml", "../deploy/staging.yaml"}, wantErr: "value file ../deploy/staging.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.chart+strings.Join(tc.files, "+"), func(t *testing.T) {
			objs, err := RenderChart(HelmSource{Chart: filepath.Join(root, tc.chart), Release: "r", Namespace: tc.namespace, ValueFiles: tc.files, ValuesInline: tc.inline})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want an error mentioning %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var found *unstructured.Unstructured
			for _, u := range objs {
				if u.GetNamespace() != tc.namespace {
					t.Errorf("%s/%s rendered into namespace %q", u.GetKind(), u.GetName(), u.GetNamespace())
				}
				if u.GetKind() == tc.kind {
					found = u
				}
			}
			if found == nil {
				t.Fatalf("no %s among %d objects", tc.kind, len(objs))
			}
			cs, _, _ := unstructured.NestedSlice(found.Object, "spec", "template", "spec", "containers")
			args, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
			if !slices.Contains(args, tc.arg) {
				t.Errorf("args %v lack %s", args, tc.arg)
			}
		})
	}
}

func TestAlertBridgeChartTakesSecretsFromEnv(t *testing.T) {
	objs, err := RenderChart(HelmSource{Chart: filepath.Join("..", "..", "apps/alert-bridge/chart"), Release: "alert-bridge", Namespace: "observability", ValueFiles: []string{"values.yaml", "../deploy/prod.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range objs {
		if u.GetKind() != "StatefulSet" {
			continue
		}
		cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		args, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
		for _, a := range args {
			if strings.Contains(a, "token=") && !strings.Contains(a, "$(") {
				t.Errorf("a token is written into the manifest: %s", a)
			}
		}
		if !slices.Contains(args, "--alertmanager-token=$(ALERTMANAGER_TOKEN)") || !slices.Contains(args, "--max-age=12h") {
			t.Errorf("args %v", args)
		}
		return
	}
	t.Fatal("no StatefulSet")
}
