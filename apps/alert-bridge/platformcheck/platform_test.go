// Package platformcheck checks that the platform's Alertmanager and
// Grafana configuration and alert-bridge's chart agree. Only tests live
// here; they load Alertmanager's config package and render the chart with
// Helm, so make test-alert-bridge leaves them to test-go (no -race: the
// race build of Helm and Alertmanager's notifiers costs minutes and there
// is no concurrency to check).
package platformcheck

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/unsilo/unsilo/internal/verify"
)

const (
	observability = "../../../platform/observability"
	chart         = "../chart"
)

// bridgeContainer renders the chart as Argo CD does for prod and returns
// the alert-bridge container.
func bridgeContainer(t *testing.T) map[string]any {
	t.Helper()
	objs, err := verify.RenderChart(verify.HelmSource{Chart: chart, Release: "alert-bridge", Namespace: "observability",
		ValueFiles: []string{"values.yaml", "../deploy/prod.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range objs {
		if u.GetKind() == "StatefulSet" || u.GetKind() == "Deployment" {
			cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
			return cs[0].(map[string]any)
		}
	}
	t.Fatal("the chart renders no workload")
	return nil
}

func flagValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// secretKeys maps env var -> Secret key of the container's secretKeyRefs.
func secretKeys(c map[string]any) map[string]string {
	out := map[string]string{}
	env, _, _ := unstructured.NestedSlice(c, "env")
	for _, e := range env {
		m := e.(map[string]any)
		if key, ok, _ := unstructured.NestedString(m, "valueFrom", "secretKeyRef", "key"); ok {
			out[m["name"].(string)] = key
		}
	}
	return out
}

// Alertmanager's configuration, loaded with Alertmanager's own config
// package, agrees with the bridge the chart deploys: same Secret key for
// the bearer token, the Watchdog routed to the bridge often enough for its
// dead-man's switch, whole groups (no truncation) and resolved sent.
func TestAlertmanagerConfigMatchesTheChart(t *testing.T) {
	cfg, err := amconfig.LoadFile(filepath.Join(observability, "alertmanager.conf.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := bridgeContainer(t)
	args, _, _ := unstructured.NestedStringSlice(c, "args")
	var recv *amconfig.Receiver
	for i := range cfg.Receivers {
		r := cfg.Receivers[i]
		if r.Name == "alert-bridge" {
			recv = &r
		}
	}
	if recv == nil || len(recv.WebhookConfigs) != 1 {
		t.Fatalf("no alert-bridge receiver with one webhook: %+v", recv)
	}
	wh := recv.WebhookConfigs[0]
	if u := string(wh.URL); !strings.HasSuffix(u, ":9095/v1/alertmanager") {
		t.Errorf("webhook URL %s is not the bridge's /v1/alertmanager", u)
	}
	if !wh.SendResolved() || wh.MaxAlerts != 0 {
		t.Errorf("send_resolved %v, max_alerts %d: want resolved sent and whole groups", wh.SendResolved(), wh.MaxAlerts)
	}
	auth := wh.HTTPConfig.Authorization
	if auth == nil || auth.Type != "Bearer" {
		t.Fatalf("webhook authorization %+v, want a Bearer credentials_file", auth)
	}
	// credentials_file is /etc/alertmanager/secrets/<secret>/<key>.
	amKey, amSecret := path.Base(auth.CredentialsFile), path.Base(path.Dir(auth.CredentialsFile))
	if got := secretKeys(c)["ALERTMANAGER_TOKEN"]; got != amKey {
		t.Errorf("Alertmanager reads Secret key %q, the chart %q", amKey, got)
	}
	if !slices.Contains(args, "--alertmanager-token=$(ALERTMANAGER_TOKEN)") {
		t.Errorf("the bridge does not take its token from that key: %v", args)
	}
	values, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		SecretName string `json:"secretName"`
	}
	if err := yaml.Unmarshal(values, &v); err != nil || v.SecretName != amSecret {
		t.Errorf("Alertmanager mounts Secret %q, the chart reads %q (%v)", amSecret, v.SecretName, err)
	}

	// The Watchdog reaches the bridge, repeated well within its deadline.
	deadline, err := time.ParseDuration(flagValue(args, "deadman-after"))
	if err != nil || deadline <= 0 {
		t.Fatalf("the chart runs no dead-man's switch: --deadman-after=%q", flagValue(args, "deadman-after"))
	}
	route := cfg.Route
	var watchdog *amconfig.Route
	for _, r := range route.Routes {
		for _, m := range r.Matchers {
			if m.Name == "alertname" && m.Matches("Watchdog") {
				watchdog = r
			}
		}
	}
	if watchdog == nil || watchdog.Receiver != "alert-bridge" {
		t.Fatalf("the Watchdog does not route to alert-bridge: %+v", watchdog)
	}
	if watchdog.RepeatInterval == nil || time.Duration(*watchdog.RepeatInterval)*3 > deadline {
		t.Errorf("Watchdog repeat_interval %v: want at most a third of --deadman-after %v", watchdog.RepeatInterval, deadline)
	}
	if watchdog.GroupInterval == nil || time.Duration(*watchdog.GroupInterval) > time.Duration(*watchdog.RepeatInterval) {
		t.Errorf("Watchdog group_interval %v above its repeat_interval", watchdog.GroupInterval)
	}
}

// Grafana's contact point signs with the key the bridge verifies with.
func TestGrafanaHMACSecretMatchesTheChart(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(observability, "apps", "kube-prometheus-stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var app map[string]any
	if err := yaml.Unmarshal(raw, &app); err != nil {
		t.Fatal(err)
	}
	ref, ok, _ := unstructured.NestedMap(app, "spec", "source", "helm", "valuesObject", "grafana", "envValueFrom", "ALERT_BRIDGE_HMAC_SECRET", "secretKeyRef")
	if !ok {
		t.Fatal("Grafana takes no ALERT_BRIDGE_HMAC_SECRET from a Secret")
	}
	if got := secretKeys(bridgeContainer(t))["GRAFANA_HMAC_SECRET"]; got != ref["key"] || ref["name"] != "alert-bridge-token" {
		t.Errorf("Grafana signs with %v/%v, the bridge verifies with key %q", ref["name"], ref["key"], got)
	}
}

// outbox.kind sqs renders a Deployment of two replicas on the queue the
// Cluster API composes, with no volume; bbolt a one-replica StatefulSet.
func TestChartOutboxKinds(t *testing.T) {
	sqsValues := map[string]any{"outbox": map[string]any{"kind": "sqs", "sqs": map[string]any{
		"queueURL": "https://sqs.ap-northeast-2.amazonaws.com/123456789012/platform-tools-alert-bridge.fifo", "deadQueueURL": "https://sqs/dead.fifo",
		"largeBodyBucket": "platform-tools-alert-bridge-bodies", "replicas": int64(2), "maxMessageBytes": int64(1048576)}}}
	for _, c := range []struct {
		name     string
		inline   map[string]any
		kind     string
		replicas int64
		wantArgs []string
	}{
		{"bbolt", nil, "StatefulSet", 1, []string{"--db=/data/alert-bridge.db"}},
		{"sqs", sqsValues, "Deployment", 2, []string{"--outbox=sqs", "--sqs-large-body-bucket=platform-tools-alert-bridge-bodies", "--sqs-max-message=1048576"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			objs, err := verify.RenderChart(verify.HelmSource{Chart: chart, Release: "alert-bridge", Namespace: "observability",
				ValueFiles: []string{"values.yaml", "../deploy/prod.yaml"}, ValuesInline: c.inline})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range objs {
				if u.GetKind() != "StatefulSet" && u.GetKind() != "Deployment" {
					continue
				}
				r, _, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "replicas")
				replicas := int64(0)
				switch v := r.(type) {
				case int64:
					replicas = v
				case float64:
					replicas = int64(v)
				}
				cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
				args, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
				_, hasVolumes := cs[0].(map[string]any)["volumeMounts"]
				if u.GetKind() != c.kind || replicas != c.replicas || hasVolumes == (c.kind == "Deployment") {
					t.Fatalf("%s with %d replicas, volumes %v", u.GetKind(), replicas, hasVolumes)
				}
				for _, w := range c.wantArgs {
					if !slices.Contains(args, w) {
						t.Errorf("args lack %s: %v", w, args)
					}
				}
				return
			}
			t.Fatal("no workload rendered")
		})
	}
	if _, err := verify.RenderChart(verify.HelmSource{Chart: chart, Release: "alert-bridge", Namespace: "observability",
		ValueFiles: []string{"values.yaml", "../deploy/prod.yaml"}, ValuesInline: map[string]any{"outbox": map[string]any{"kind": "sqs"}}}); err == nil {
		t.Fatal("outbox sqs without a queue rendered")
	}
}
