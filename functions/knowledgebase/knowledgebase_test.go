package knowledgebase

import (
	"context"
	"encoding/json"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"
	kendra "github.com/upbound/provider-aws/v2/apis/namespaced/kendra/v1beta1"
	corev1 "k8s.io/api/core/v1"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/compose/composetest"
)

func TestMain(m *testing.M) { os.Exit(composetest.Main(m, API{})) }

const (
	haiku   = "arn:aws:bedrock:ap-northeast-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
	sonnet  = "arn:aws:bedrock:ap-northeast-2:123456789012:inference-profile/apac.anthropic.claude-3-5-sonnet-20241022-v2:0"
	drive   = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:kendra/drive-AbCdEf"
	keyARN  = "arn:aws:kms:ap-northeast-2:123456789012:key/k"
	idxARN  = "arn:aws:kendra:ap-northeast-2:123456789012:index/0f1e"
	guardrl = "arn:aws:bedrock:ap-northeast-2:123456789012:guardrail/k3x9pq2m7zab"
)

func base() map[string]any {
	return map[string]any{
		"region":  "ap-northeast-2",
		"sources": map[string]any{"s3": map[string]any{"bucket": "docs"}},
		"bedrock": map[string]any{"modelArns": []any{haiku}},
	}
}

// with sets a dotted path in a copy of base().
func with(path string, v any) map[string]any { return composetest.With(base(), path, v) }

// platformCluster is the Cluster rag-api runs on (another namespace, in
// Seoul) and its Network, as Crossplane returns them when asked.
var platformCluster = composetest.Required(map[string][]resource.Required{
	"cluster": {{Resource: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "platform.unsilo.dev/v1alpha1", "kind": "Cluster", "metadata": map[string]any{"name": "tools", "namespace": "platform"},
		"spec": map[string]any{"networkRef": map[string]any{"name": "platform"}},
	}}}},
	"cluster-network": {{Resource: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "platform.unsilo.dev/v1alpha1", "kind": "Network", "metadata": map[string]any{"name": "platform", "namespace": "platform"},
		"spec": map[string]any{"region": "ap-northeast-2"},
	}}}},
})

func compose1(t *testing.T, spec map[string]any, observed map[string]map[string]any) *compose.Result {
	t.Helper()
	obs := composetest.Observed(observed)
	res, err := API{}.Compose(context.Background(), &compose.Request{XR: composetest.XR("KnowledgeBase", "knowledge", "handbook", spec), Observed: obs, Required: platformCluster})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestInvalidSpec(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   map[string]any
		field  string
	}{
		"NoRegion":       {"the index lives in a region", func() map[string]any { s := base(); delete(s, "region"); return s }(), "spec.region"},
		"NoSources":      {"an index with nothing to crawl is money for nothing", with("sources", map[string]any{}), "spec.sources"},
		"DevEditionProd": {"the developer edition has no SLA", func() map[string]any { s := with("environment", "prod"); s["edition"] = "DEVELOPER_EDITION"; return s }(), "spec.edition"},
		"BadLanguage":    {"Kendra analyzes per language", with("sources.s3.language", "kr"), "spec.sources.s3.language"},
		"DriveNoSecret":  {"connector credentials come from Secrets Manager", with("sources.googleDrive", map[string]any{"secretArn": "hunter2"}), "spec.sources.googleDrive.secretArn"},
		"GmailNoSecret":  {"same for Gmail", with("sources.gmail", map[string]any{}), "spec.sources.gmail.secretArn"},
		"CrawlerNoSeeds": {"a crawler needs somewhere to start", with("sources.webCrawler", map[string]any{}), "spec.sources.webCrawler.seedUrls"},
		"NoModels":       {"rag-api needs a model to answer", with("bedrock.modelArns", []any{}), "spec.bedrock.modelArns"},
		"StarModel":      {"Bedrock access is never a wildcard", with("bedrock.modelArns", []any{"arn:aws:bedrock:ap-northeast-2::foundation-model/*"}), "spec.bedrock.modelArns[0]"},
		"NotAModel":      {"only models and inference profiles", with("bedrock.modelArns", []any{haiku, "arn:aws:s3:::bucket"}), "spec.bedrock.modelArns[1]"},
		"BadGuardrail":   {"a guardrail is an ARN", with("bedrock.guardrailArn", "gr-123"), "spec.bedrock.guardrailArn"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := API{}.Compose(context.Background(), &compose.Request{XR: composetest.XR("KnowledgeBase", "knowledge", "handbook", tc.spec), Required: composetest.Required(nil)})
			fe, ok := compose.AsFieldError(err)
			if !ok || fe.Field != tc.field {
				t.Fatalf("%s: want a field error on %s, got %v", tc.reason, tc.field, err)
			}
		})
	}
}

// TestOrdering: the index takes its key's ARN (no selector exists for it),
// and data sources need the index.
func TestOrdering(t *testing.T) {
	steps := []struct {
		observed map[string]map[string]any
		want     []string
		absent   []string
	}{
		{nil, []string{"index-key", "index-role", "rag-api-role"}, []string{"index", "source-s3"}},
		{map[string]map[string]any{"index-key": {"arn": keyARN}}, []string{"index", "source-s3", "source-s3-role"}, nil},
	}
	for i, s := range steps {
		res := compose1(t, base(), s.observed)
		for _, n := range s.want {
			if _, ok := res.Resources[resource.Name(n)]; !ok {
				t.Errorf("step %d: %s missing", i, n)
			}
		}
		for _, n := range s.absent {
			if _, ok := res.Resources[resource.Name(n)]; ok {
				t.Errorf("step %d: %s composed too early", i, n)
			}
		}
	}
	idx := compose1(t, base(), map[string]map[string]any{"index-key": {"arn": keyARN}}).Resources["index"].(*kendra.Index)
	if got := *idx.Spec.ForProvider.ServerSideEncryptionConfiguration.KMSKeyID; got != keyARN {
		t.Errorf("index encrypted with %q, want the composed key", got)
	}
	if got := *idx.Spec.ForProvider.UserContextPolicy; got != "USER_TOKEN" {
		t.Errorf("user context policy %q: without USER_TOKEN Kendra ignores the groups rag-api passes", got)
	}
}

func TestTemplateConnectors(t *testing.T) {
	spec := with("sources.googleDrive", map[string]any{"secretArn": drive})
	spec["sources"].(map[string]any)["gmail"] = map[string]any{"secretArn": drive, "language": "en"}
	res := compose1(t, spec, map[string]map[string]any{"index-key": {"arn": keyARN}})
	for name, want := range map[string]string{"source-google-drive": "GOOGLEDRIVEV2", "source-gmail": "GMAIL"} {
		ds := res.Resources[resource.Name(name)].(*kendra.DataSource)
		var tmpl map[string]any
		if err := json.Unmarshal([]byte(*ds.Spec.ForProvider.Configuration.TemplateConfiguration.Template), &tmpl); err != nil {
			t.Fatalf("%s: template is not JSON: %v", name, err)
		}
		if tmpl["type"] != want || tmpl["secretArn"] != drive {
			t.Errorf("%s: template type %v secret %v, want %s with the spec's secret", name, tmpl["type"], tmpl["secretArn"], want)
		}
		if *ds.Spec.ForProvider.Type != "TEMPLATE" {
			t.Errorf("%s: type %s", name, *ds.Spec.ForProvider.Type)
		}
		role := res.Resources[resource.Name(name+"-role")].(*iam.Role)
		if !strings.Contains(*role.Spec.ForProvider.InlinePolicy[0].Policy, drive) {
			t.Errorf("%s: its role cannot read the connector secret", name)
		}
	}
	if got := *res.Resources["source-gmail"].(*kendra.DataSource).Spec.ForProvider.LanguageCode; got != "en" {
		t.Errorf("gmail language %s, want the source's own en", got)
	}
	if got := *res.Resources["source-google-drive"].(*kendra.DataSource).Spec.ForProvider.LanguageCode; got != "ko" {
		t.Errorf("drive language %s, want the default ko", got)
	}
}

type statement struct {
	Sid       string
	Action    []string
	Resource  any
	Condition map[string]map[string]any
}

func ragPolicy(t *testing.T, res *compose.Result) map[string]statement {
	t.Helper()
	role := res.Resources["rag-api-role"].(*iam.Role)
	var doc struct{ Statement []statement }
	if err := json.Unmarshal([]byte(*role.Spec.ForProvider.InlinePolicy[0].Policy), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]statement{}
	for _, s := range doc.Statement {
		out[s.Sid] = s
	}
	return out
}

func resources(r any) []string {
	switch v := r.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

func TestRagAPIAccess(t *testing.T) {
	spec := with("bedrock.modelArns", []any{haiku, sonnet})
	spec["bedrock"].(map[string]any)["guardrailArn"] = guardrl
	spec["podIdentity"] = map[string]any{"clusterRef": map[string]any{"name": "tools", "namespace": "platform"}}
	res := compose1(t, spec, map[string]map[string]any{"index-key": {"arn": keyARN}, "index": {"arn": idxARN, "id": "0f1e"}})
	p := ragPolicy(t, res)

	if got := resources(p["SearchIndex"].Resource); !slices.Equal(got, []string{idxARN}) {
		t.Errorf("Kendra access on %v, want only the index", got)
	}
	if got := resources(p["ConverseWithAllowedModels"].Resource); !slices.Equal(got, []string{haiku, sonnet}) {
		t.Errorf("models %v, want exactly the allowlist", got)
	}
	// The profile routes to Sonnet in any APAC region, but only through it.
	routed := p["ModelsBehindProfiles"]
	if got := resources(routed.Resource); !slices.Equal(got, []string{"arn:aws:bedrock:*::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0"}) {
		t.Errorf("models behind the profile %v", got)
	}
	if got := resources(routed.Condition["StringLike"]["bedrock:InferenceProfileArn"]); !slices.Equal(got, []string{sonnet}) {
		t.Errorf("routed models not conditioned on the profile: %v", routed.Condition)
	}
	if got := resources(p["ApplyGuardrail"].Resource); !slices.Equal(got, []string{guardrl}) {
		t.Errorf("guardrail access %v", got)
	}
	for sid, s := range p {
		for _, a := range s.Action {
			if a == "*" || a == "bedrock:*" || a == "kendra:*" {
				t.Errorf("%s grants %s", sid, a)
			}
		}
		for _, r := range resources(s.Resource) {
			if r == "*" {
				t.Errorf("%s reaches every resource", sid)
			}
		}
	}
	pia, ok := res.Resources["rag-api-pod-identity"]
	if !ok {
		t.Fatal("no Pod Identity association although spec.podIdentity is set")
	}
	cd, _ := composed.From(pia)
	if ns, _ := cd.GetString("spec.forProvider.namespace"); ns != "knowledge" {
		t.Errorf("association namespace %q, want the default knowledge", ns)
	}
	// The cluster the Cluster XR platform/tools composes, in its region.
	if n, _ := cd.GetString("spec.forProvider.clusterName"); n != "platform-tools-eks" {
		t.Errorf("association names cluster %q, want platform-tools-eks (what Cluster platform/tools creates)", n)
	}
	if r, _ := cd.GetString("spec.forProvider.region"); r != "ap-northeast-2" {
		t.Errorf("association in %q, want the cluster's region ap-northeast-2", r)
	}
	if sel := res.Require["cluster"]; sel.Namespace != "platform" || sel.Name != "tools" {
		t.Errorf("requirement %+v, want Cluster platform/tools", sel)
	}
	if got := res.Status["indexId"]; got != "0f1e" {
		t.Errorf("status.indexId %v", got)
	}
	cm, ok := res.Resources["rag-api-config"].(*corev1.ConfigMap)
	if !ok || cm.Name != "handbook-knowledgebase" || cm.Data["KENDRA_INDEX_ID"] != "0f1e" {
		t.Errorf("rag-api cannot find the index: %+v", res.Resources["rag-api-config"])
	}

	res = compose1(t, base(), nil)
	if _, ok := res.Resources["rag-api-pod-identity"]; ok {
		t.Error("association composed without spec.podIdentity")
	}
	if _, ok := res.Resources["rag-api-config"]; ok {
		t.Error("rag-api config written before the index has an id")
	}
	if _, ok := ragPolicy(t, res)["SearchIndex"]; ok {
		t.Error("Kendra access granted before the index exists")
	}
}

// TestConnectorsMapPrincipals: a connector that crawls ACLs writes
// principal mappings into the index; a plain S3 source does not.
func TestConnectorsMapPrincipals(t *testing.T) {
	spec := with("sources.googleDrive", map[string]any{"secretArn": drive})
	res := compose1(t, spec, map[string]map[string]any{"index-key": {"arn": keyARN}, "index": {"arn": idxARN, "id": "0f1e"}})
	cases := map[string]struct {
		reason string
		role   string
		want   bool
	}{
		"Drive": {"Google Drive crawls ACLs (isCrawlAcl)", "source-google-drive-role", true},
		"S3":    {"S3 without an ACL file maps no principals", "source-s3-role", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, ok := res.Resources[resource.Name(tc.role)]
			if !ok {
				t.Fatalf("no %s", tc.role)
			}
			cd, _ := composed.From(r)
			p, _ := cd.GetString("spec.forProvider.inlinePolicy[0].policy")
			got := strings.Contains(p, `"kendra:PutPrincipalMapping"`) && strings.Contains(p, idxARN)
			if got != tc.want {
				t.Errorf("%s: PutPrincipalMapping on the index = %v, want %v: %s", tc.reason, got, tc.want, p)
			}
		})
	}
}
