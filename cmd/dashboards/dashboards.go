// Command dashboards defines the platform's Grafana dashboards as code
// (grafana-foundation-sdk) and writes them (`make golden`) to
// platform/observability/dashboards/, where a kustomize generator turns
// them into ConfigMaps that Grafana's sidecar loads; a test fails when the
// committed JSON is not what this code generates.
package main

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Dashboard is one generated dashboard and the file it is written to.
type Dashboard struct {
	File    string
	builder *dashboard.DashboardBuilder //nolint:staticcheck // v2 dashboards need Grafana 12; the chart's Grafana reads v1 JSON
}

// JSON renders the dashboard as Grafana imports it.
func (d Dashboard) JSON() ([]byte, error) {
	b, err := d.builder.Build()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.File, err)
	}
	j, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.File, err)
	}
	return append(j, '\n'), nil
}

func datasource() common.DataSourceRef {
	t, uid := "prometheus", "prometheus" // the stack's provisioned datasource
	return common.DataSourceRef{Type: &t, Uid: &uid}
}

func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend)
}

func series(title, unit string, queries ...*prometheus.DataqueryBuilder) cog.Builder[dashboard.Panel] {
	p := timeseries.NewPanelBuilder().Title(title).Unit(unit).Datasource(datasource()).Span(12).Height(8)
	for _, q := range queries {
		p = p.WithTarget(q)
	}
	return p
}

func single(title, unit string, q *prometheus.DataqueryBuilder) cog.Builder[dashboard.Panel] {
	return stat.NewPanelBuilder().Title(title).Unit(unit).Datasource(datasource()).Span(6).Height(4).WithTarget(q.Instant())
}

//nolint:staticcheck // v1 dashboard schema on purpose, see Dashboard.builder
func base(uid, title string, tags ...string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).Uid(uid).Tags(append([]string{"unsilo"}, tags...)).
		Refresh("1m").Time("now-6h", "now").Timezone("browser").Readonly()
}

// All is every dashboard of the platform.
func All() []Dashboard {
	return []Dashboard{
		{"rag-api.json", base("unsilo-rag-api", "rag-api: questions and answers", "knowledge").
			WithRow(dashboard.NewRowBuilder("Service level")).
			WithPanel(single("Answered without a 5xx (1h)", "percentunit",
				query(`1 - (sum(rate(rag_api_requests_total{code=~"5.."}[1h])) / sum(rate(rag_api_requests_total[1h])))`, "ratio"))).
			WithPanel(single("p95 /v1/ask (1h)", "s",
				query(`histogram_quantile(0.95, sum by (le) (rate(rag_api_request_seconds_bucket{route="/v1/ask"}[1h])))`, "p95"))).
			WithPanel(series("Requests by route and status", "reqps",
				query(`sum by (route, code) (rate(rag_api_requests_total[5m]))`, "{{route}} {{code}}"))).
			WithPanel(series("Latency by route", "s",
				query(`histogram_quantile(0.5, sum by (le, route) (rate(rag_api_request_seconds_bucket[5m])))`, "p50 {{route}}"),
				query(`histogram_quantile(0.95, sum by (le, route) (rate(rag_api_request_seconds_bucket[5m])))`, "p95 {{route}}")))},
		{"alert-bridge.json", base("unsilo-alert-bridge", "alert-bridge: alerts to n8n", "observability").
			WithRow(dashboard.NewRowBuilder("Nothing lost")).
			WithPanel(single("Outbox depth", "short", query(`sum(alert_bridge_outbox_depth)`, "outbox"))).
			WithPanel(single("Dead letters", "short", query(`sum(alert_bridge_dead_letters)`, "dead"))).
			WithPanel(series("Received, deduplicated, delivered", "ops",
				query(`sum by (source) (rate(alert_bridge_received_total[5m]))`, "received {{source}}"),
				query(`sum(rate(alert_bridge_deduped_total[5m]))`, "deduplicated"),
				query(`sum(rate(alert_bridge_delivered_total[5m]))`, "delivered"),
				query(`sum(rate(alert_bridge_delivery_retries_total[5m]))`, "retries"))).
			WithPanel(series("Ack and delivery latency (p99)", "s",
				query(`histogram_quantile(0.99, sum by (le) (rate(alert_bridge_ack_seconds_bucket[5m])))`, "ack p99"),
				query(`histogram_quantile(0.99, sum by (le) (rate(alert_bridge_delivery_seconds_bucket[5m])))`, "delivery p99")))},
		{"lake.json", base("unsilo-lake", "Log lake: Fluent Bit to log-shipper", "lake").
			WithRow(dashboard.NewRowBuilder("Shipping")).
			WithPanel(series("Fluent Bit records out and retries", "ops",
				query(`sum by (name) (rate(fluentbit_output_proc_records_total[5m]))`, "out {{name}}"),
				query(`sum by (name) (rate(fluentbit_output_retries_total[5m]))`, "retries {{name}}"),
				query(`sum by (name) (rate(fluentbit_output_retries_failed_total[5m]))`, "gave up {{name}}"))).
			WithPanel(series("log-shipper pods: CPU and restarts", "short",
				query(`sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="lake", container="log-shipper"}[5m]))`, "cpu {{pod}}"),
				query(`sum by (pod) (increase(kube_pod_container_status_restarts_total{namespace="lake"}[1h]))`, "restarts/h {{pod}}"))).
			WithPanel(series("log-shipper spool volume used", "percentunit",
				query(`kubelet_volume_stats_used_bytes{namespace="lake"} / kubelet_volume_stats_capacity_bytes{namespace="lake"}`, "{{persistentvolumeclaim}}")))},
	}
}
