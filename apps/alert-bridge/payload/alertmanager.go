package payload

// amMessage mirrors Alertmanager's webhook body (notify/webhook Message,
// version "4"; docs/configuration.md <webhook_config>).
type amMessage struct {
	Version            *string           `json:"version"`
	GroupKey           *string           `json:"groupKey"`
	TruncatedAlerts    int               `json:"truncatedAlerts"`
	Status             string            `json:"status"`
	Receiver           string            `json:"receiver"`
	GroupLabels        map[string]string `json:"groupLabels"`
	CommonLabels       map[string]string `json:"commonLabels"`
	CommonAnnotations  map[string]string `json:"commonAnnotations"`
	ExternalURL        string            `json:"externalURL"`
	NotificationReason string            `json:"notification_reason"`
	Alerts             []Alert           `json:"alerts"`
}

// DecodeAlertmanager parses and validates an Alertmanager webhook body.
// Required: version "4", a non-empty groupKey, status firing|resolved, a
// non-empty alerts array whose alerts have a status and labels. A missing
// per-alert fingerprint (very old Alertmanagers) is derived from the labels.
func DecodeAlertmanager(body []byte) (*Notification, error) {
	var m amMessage
	if err := decodeJSON(body, &m); err != nil {
		return nil, err
	}
	if m.Version == nil {
		return nil, bad("version is required")
	}
	if *m.Version != "4" {
		return nil, bad("unsupported Alertmanager webhook version %q (want \"4\")", *m.Version)
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
	if err := checkAlerts(m.Alerts, labelsFingerprint); err != nil {
		return nil, err
	}
	return &Notification{
		Source:            SourceAlertmanager,
		Version:           *m.Version,
		GroupKey:          *m.GroupKey,
		Status:            m.Status,
		Receiver:          m.Receiver,
		GroupLabels:       m.GroupLabels,
		CommonLabels:      m.CommonLabels,
		CommonAnnotations: m.CommonAnnotations,
		ExternalURL:       m.ExternalURL,
		TruncatedAlerts:   m.TruncatedAlerts,
		Alerts:            m.Alerts,
	}, nil
}
