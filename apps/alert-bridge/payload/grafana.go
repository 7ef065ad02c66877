package payload

import "encoding/json"

// grafanaMessage mirrors Grafana unified alerting's webhook body (version
// "1"): Alertmanager's template data plus orgId, title, state, message.
type grafanaMessage struct {
	Version           *string           `json:"version"`
	GroupKey          *string           `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	OrgID             int64             `json:"orgId"`
	Status            string            `json:"status"`
	State             string            `json:"state"`
	Title             string            `json:"title"`
	Message           string            `json:"message"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []grafanaAlert    `json:"alerts"`
}

type grafanaAlert struct {
	Alert
	// values is an object of numbers (Grafana 9+) or null; valueString is
	// the older textual form. Both are accepted and not interpreted.
	Values      json.RawMessage `json:"values"`
	ValueString string          `json:"valueString"`
	ImageURL    string          `json:"imageURL"`
}

// DecodeGrafana parses and validates a Grafana webhook body. Required:
// version "1", a non-empty groupKey, status firing|resolved, a non-empty
// alerts array whose alerts have status, labels and a fingerprint (Grafana
// always sends one; it is half of the dedupe key).
func DecodeGrafana(body []byte) (*Notification, error) {
	var m grafanaMessage
	if err := decodeJSON(body, &m); err != nil {
		return nil, err
	}
	if m.Version == nil {
		return nil, bad("version is required")
	}
	if *m.Version != "1" {
		return nil, bad("unsupported Grafana webhook version %q (want \"1\")", *m.Version)
	}
	if m.GroupKey == nil || *m.GroupKey == "" {
		return nil, bad("groupKey is required")
	}
	if err := checkStatus("status", m.Status); err != nil {
		return nil, err
	}
	if m.TruncatedAlerts < 0 {
		return nil, bad("truncatedAlerts must not be negative")
	}
	alerts := make([]Alert, len(m.Alerts))
	for i, a := range m.Alerts {
		if len(a.Values) > 0 && a.Values[0] != '{' && string(a.Values) != "null" {
			return nil, bad("alerts[%d].values must be an object or null", i)
		}
		alerts[i] = a.Alert
	}
	if err := checkAlerts(alerts, nil); err != nil {
		return nil, err
	}
	return &Notification{
		Source:            SourceGrafana,
		Version:           *m.Version,
		GroupKey:          *m.GroupKey,
		Status:            m.Status,
		Receiver:          m.Receiver,
		GroupLabels:       m.GroupLabels,
		CommonLabels:      m.CommonLabels,
		CommonAnnotations: m.CommonAnnotations,
		ExternalURL:       m.ExternalURL,
		TruncatedAlerts:   m.TruncatedAlerts,
		OrgID:             m.OrgID,
		Title:             m.Title,
		Alerts:            alerts,
	}, nil
}
