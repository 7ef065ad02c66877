package payload

import (
	"encoding/json"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
)

// grafanaMessage is Grafana unified alerting's webhook body (version "1",
// grafana/alerting receivers/webhook/v1): Alertmanager's webhook.Message
// plus orgId, state, title and message, and per-alert extras. The alerts
// are decoded as grafanaAlert, which embeds template.Alert.
type grafanaMessage struct {
	webhook.Message
	Version  *string                    `json:"version"`
	GroupKey *string                    `json:"groupKey"`
	OrgID    int64                      `json:"orgId"`
	State    string                     `json:"state"`
	Title    string                     `json:"title"`
	Text     string                     `json:"message"`
	Alerts   *alertStream[grafanaAlert] `json:"alerts"`
}

type grafanaAlert struct {
	template.Alert
	OrgID int64 `json:"orgId"`
	// values is an object of numbers (Grafana 9+) or null; valueString is
	// the older textual form. Both are forwarded verbatim, not interpreted.
	Values       json.RawMessage `json:"values"`
	ValueString  string          `json:"valueString"`
	ImageURL     string          `json:"imageURL"`
	SilenceURL   string          `json:"silenceURL"`
	DashboardURL string          `json:"dashboardURL"`
	PanelURL     string          `json:"panelURL"`
}

func grafanaCheck(i int, a *grafanaAlert) error {
	if len(a.Values) > 0 && a.Values[0] != '{' && string(a.Values) != "null" {
		return bad("alerts[%d].values must be an object or null", i)
	}
	return nil
}

// DecodeGrafana parses and validates a Grafana webhook body. Required:
// version "1", a non-empty groupKey, status firing|resolved, a non-empty
// alerts array whose alerts have status, labels and a fingerprint (Grafana
// always sends one; it is part of the dedupe key). The returned
// Notification keeps body as Raw (not copied).
func DecodeGrafana(body []byte) (*Notification, error) {
	var acc accumulator
	m := grafanaMessage{Message: webhook.Message{Data: &template.Data{}}, Alerts: &alertStream[grafanaAlert]{acc: &acc,
		alert: func(a *grafanaAlert) *template.Alert { return &a.Alert },
		check: grafanaCheck}}
	if err := decodeJSON(body, &m); err != nil {
		return nil, err
	}
	if err := (header{m.Version, m.GroupKey, m.Data}).check("1", "Grafana"); err != nil {
		return nil, err
	}
	n := &Notification{Source: SourceGrafana, Version: *m.Version, GroupKey: *m.GroupKey, OrgID: m.OrgID,
		TruncatedAlerts: m.TruncatedAlerts, Raw: body}
	if err := acc.finish(n, m.Data); err != nil {
		return nil, err
	}
	return n, nil
}
