// Package payload decodes Alertmanager (webhook version "4") and Grafana
// unified alerting (webhook version "1") bodies into one Notification.
//
// Decoding policy: both senders add fields over time (Alertmanager added
// truncatedAlerts and notification_reason; Grafana added orgId, values,
// imageURL, ...), so unknown fields are tolerated rather than rejected with
// DisallowUnknownFields. Known fields are strict about their JSON types (a
// string where an object is expected is a 400), required fields are checked
// explicitly, enums (status) are checked, and trailing data after the JSON
// object is rejected.
package payload

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Source names the sender of a webhook.
type Source string

const (
	SourceAlertmanager Source = "alertmanager"
	SourceGrafana      Source = "grafana"
)

// Alert is one alert in a notification, common to both senders.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
	Fingerprint  string            `json:"fingerprint"`
	SilenceURL   string            `json:"silenceURL,omitempty"`
	DashboardURL string            `json:"dashboardURL,omitempty"`
	PanelURL     string            `json:"panelURL,omitempty"`
}

// Notification is the normalized form of either webhook, stored in the
// outbox and delivered downstream.
type Notification struct {
	Source            Source            `json:"source"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	OrgID             int64             `json:"orgId,omitempty"`
	Title             string            `json:"title,omitempty"`
	Alerts            []Alert           `json:"alerts"`
}

// DecodeError is a client error: the body is malformed or violates the
// schema. Reason is safe to return to the caller.
type DecodeError struct {
	Reason string
	Err    error
}

func (e *DecodeError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *DecodeError) Unwrap() error { return e.Err }

// IsDecodeError reports whether err is a client-side decoding error.
func IsDecodeError(err error) bool {
	var de *DecodeError
	return errors.As(err, &de)
}

func bad(format string, args ...any) error {
	return &DecodeError{Reason: fmt.Sprintf(format, args...)}
}

// AlertName is the alertname label (common labels first, then the first alert).
func (n *Notification) AlertName() string { return n.label("alertname") }

// Severity is the severity label, "" when absent.
func (n *Notification) Severity() string { return n.label("severity") }

// Team is the team label, "" when absent.
func (n *Notification) Team() string { return n.label("team") }

// Summary is the summary annotation (or description as a fallback).
func (n *Notification) Summary() string {
	for _, k := range []string{"summary", "description"} {
		if v := n.CommonAnnotations[k]; v != "" {
			return v
		}
		for _, a := range n.Alerts {
			if v := a.Annotations[k]; v != "" {
				return v
			}
		}
	}
	return ""
}

func (n *Notification) label(k string) string {
	if v := n.CommonLabels[k]; v != "" {
		return v
	}
	for _, a := range n.Alerts {
		if v := a.Labels[k]; v != "" {
			return v
		}
	}
	return ""
}

// DedupeKey identifies the notification's content for deduplication: the
// source, the group key and the sorted set of fingerprint:status pairs. Two
// members of an Alertmanager HA pair send the same key; a resolved following
// a firing has a different key.
func (n *Notification) DedupeKey() string {
	pairs := make([]string, 0, len(n.Alerts))
	for _, a := range n.Alerts {
		pairs = append(pairs, a.Fingerprint+":"+a.Status)
	}
	sort.Strings(pairs)
	h := sha256.New()
	h.Write([]byte(n.Source))
	h.Write([]byte{0})
	if n.Source == SourceGrafana {
		fmt.Fprintf(h, "%d", n.OrgID)
		h.Write([]byte{0})
	}
	h.Write([]byte(n.GroupKey))
	h.Write([]byte{0})
	h.Write([]byte(strings.Join(pairs, ",")))
	return hex.EncodeToString(h.Sum(nil))
}

// GroupID identifies the alert group (source + org + group key).
func (n *Notification) GroupID() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s", n.Source, n.OrgID, n.GroupKey)
	return hex.EncodeToString(h.Sum(nil))
}

// labelsFingerprint is the fallback fingerprint for old Alertmanager
// payloads without one: a hash of the sorted label set (not Prometheus'
// FNV fingerprint, but stable and collision-resistant).
func labelsFingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\xff%s\xff", k, labels[k])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}
