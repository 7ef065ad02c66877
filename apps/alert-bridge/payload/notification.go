// Package payload decodes Alertmanager (webhook version "4") and Grafana
// unified alerting (webhook version "1") bodies with Alertmanager's own
// types (notify/webhook.Message, template.Data) and summarises each into a
// Notification: the fields alert-bridge routes, dedupes and enriches on,
// plus the body exactly as the sender sent it.
//
// The body is forwarded verbatim, so every field the sender sent reaches
// n8n, including the ones neither this package nor Alertmanager's types
// know yet (Grafana's values, imageURL, per-alert orgId; Alertmanager's
// notification_reason, routeLabels, ...). Decoding is for validation and
// for the summary only.
//
// Decoding policy: unknown fields are tolerated (both senders add fields
// over time); known fields are strict about their JSON types, required
// fields and enums are checked, trailing data and invalid UTF-8 are
// rejected.
package payload

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Source names the sender of a webhook.
type Source string

const (
	SourceAlertmanager Source = "alertmanager"
	SourceGrafana      Source = "grafana"
	// SourceBridge marks notifications alert-bridge raises itself (the
	// dead-man's switch).
	SourceBridge Source = "alert-bridge"
)

// Notification is the summary of one webhook, stored next to its raw body.
type Notification struct {
	Source          Source `json:"source"`
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	Status          string `json:"status"`
	Receiver        string `json:"receiver"`
	OrgID           int64  `json:"orgId,omitempty"`
	AlertName       string `json:"alertname"`
	Severity        string `json:"severity"`
	Team            string `json:"team"`
	Summary         string `json:"summary"`
	Alerts          int    `json:"alerts"`
	Firing          int    `json:"firing"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
	// First is the first alert's identity, for evidence-link templates.
	First AlertRef `json:"first"`
	// GroupID and DedupeKey are 16-byte digests (see GroupIDOf, DedupeKeyOf).
	GroupID   Digest `json:"groupId"`
	DedupeKey Digest `json:"dedupeKey"`
	// Raw is the webhook body as received. It is stored and forwarded
	// separately from this summary, never re-encoded.
	Raw []byte `json:"-"`
}

// AlertRef identifies one alert of a notification.
type AlertRef struct {
	Fingerprint string    `json:"fingerprint"`
	StartsAt    time.Time `json:"startsAt"`
	EndsAt      time.Time `json:"endsAt"`
}

// Digest is a truncated SHA-256: 16 bytes are plenty against accidental
// collisions (2^-64 per pair) and keep the dedupe index small.
type Digest [16]byte

// String is the lowercase hex form (32 characters).
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// MarshalText encodes the hex form.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes the hex form.
func (d *Digest) UnmarshalText(b []byte) error {
	if hex.DecodedLen(len(b)) != len(d) {
		return fmt.Errorf("digest %q: want %d hex characters", b, 2*len(d))
	}
	_, err := hex.Decode(d[:], b)
	return err
}

// episode is what makes a notification's state distinct: which alerts,
// in which status, since when. A new firing episode of the same alert has
// a new startsAt and so a new key.
type episode struct {
	fingerprint, status string
	startsAt            time.Time
}

func digest(parts ...[]byte) Digest {
	h := sha256.New()
	for _, p := range parts {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		h.Write(n[:]) // length-prefixed: no two part lists hash alike
		h.Write(p)
	}
	var d Digest
	copy(d[:], h.Sum(nil))
	return d
}

// GroupIDOf identifies an alert group: sender, Grafana org, receiver and
// group key. Per-group delivery order and dedupe are keyed on it.
func GroupIDOf(src Source, orgID int64, receiver, groupKey string) Digest {
	return digest([]byte(src), fmt.Appendf(nil, "%d", orgID), []byte(receiver), []byte(groupKey))
}

// dedupeKeyOf digests the group and the sorted set of its alerts'
// (fingerprint, status, startsAt). Both members of an Alertmanager HA pair
// send the same key; a resolved after a firing, a new alert in the group
// or a new firing episode (new startsAt) all change it.
func dedupeKeyOf(group Digest, eps []episode) Digest {
	slices.SortFunc(eps, func(a, b episode) int {
		if c := compareStrings(a.fingerprint, b.fingerprint); c != 0 {
			return c
		}
		if c := compareStrings(a.status, b.status); c != 0 {
			return c
		}
		return a.startsAt.Compare(b.startsAt)
	})
	parts := make([][]byte, 0, 1+3*len(eps))
	parts = append(parts, group[:])
	for _, e := range eps {
		parts = append(parts, []byte(e.fingerprint), []byte(e.status), fmt.Appendf(nil, "%d", e.startsAt.UnixNano()))
	}
	return digest(parts...)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// DecodeError is a client error: the body is malformed or violates the
// schema. Its message is safe to return to the caller.
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
