package payload

import (
	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
)

// amMessage is Alertmanager's webhook body: notify/webhook.Message, whose
// embedded *template.Data carries the rest. Version and groupKey are
// shadowed by pointers so "absent" and "empty" can be told apart, and the
// alerts by a stream of template.Alert (see alertStream).
type amMessage struct {
	webhook.Message
	Version  *string                      `json:"version"`
	GroupKey *string                      `json:"groupKey"`
	Alerts   *alertStream[template.Alert] `json:"alerts"`
}

// DecodeAlertmanager parses and validates an Alertmanager webhook body.
// Required: version "4", a non-empty groupKey, status firing|resolved, a
// non-empty alerts array whose alerts have a status and labels. A missing
// per-alert fingerprint (very old Alertmanagers) is derived from the labels.
// The returned Notification keeps body as Raw (not copied).
func DecodeAlertmanager(body []byte) (*Notification, error) {
	var acc accumulator
	m := amMessage{Message: webhook.Message{Data: &template.Data{}},
		Alerts: &alertStream[template.Alert]{acc: &acc, alert: func(a *template.Alert) *template.Alert { return a }, fallbackFP: labelsFingerprint}}
	if err := decodeJSON(body, &m); err != nil {
		return nil, err
	}
	if err := (header{m.Version, m.GroupKey, m.Data}).check("4", "Alertmanager"); err != nil {
		return nil, err
	}
	n := &Notification{Source: SourceAlertmanager, Version: *m.Version, GroupKey: *m.GroupKey,
		TruncatedAlerts: m.TruncatedAlerts, Raw: body}
	if err := acc.finish(n, m.Data); err != nil {
		return nil, err
	}
	return n, nil
}
