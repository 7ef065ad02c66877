// Package auth checks inbound webhook credentials: a bearer token
// (Alertmanager http_config.authorization) and Grafana's HMAC-SHA256
// signature (hmacConfig on the webhook contact point).
package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrUnauthorized is wrapped by every rejection; the message is safe to
// return to the caller.
var ErrUnauthorized = errors.New("unauthorized")

func deny(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnauthorized, fmt.Sprintf(format, args...))
}

// Bearer checks "Authorization: Bearer <token>" in constant time. An empty
// Token disables the check.
type Bearer struct {
	Token string
}

// Check verifies the request header.
func (b Bearer) Check(h http.Header) error {
	if b.Token == "" {
		return nil
	}
	v := h.Get("Authorization")
	if v == "" {
		return deny("missing Authorization header")
	}
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return deny("Authorization scheme must be Bearer")
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(cred)), []byte(b.Token)) != 1 {
		return deny("bad bearer token")
	}
	return nil
}

// DefaultSignatureHeader is the header name Grafana's contact point form
// suggests (grafana/alerting receivers/webhook/v1 schema placeholder).
const DefaultSignatureHeader = "X-Grafana-Alerting-Signature"

// DefaultTimestampHeader is our default for the timestamp header. Grafana
// has no default name: whatever is configured in the contact point's
// hmacConfig.timestampHeader must be configured here too.
const DefaultTimestampHeader = "X-Grafana-Alerting-Signature-Timestamp"

// HMAC verifies Grafana's signature: lowercase hex HMAC-SHA256 with Secret
// over the raw body, or over timestamp + ":" + body when Grafana is
// configured with a timestamp header (grafana/alerting http/hmac.go). The
// timestamp is Unix seconds.
type HMAC struct {
	Secret          string
	Header          string        // default DefaultSignatureHeader
	TimestampHeader string        // default DefaultTimestampHeader
	RequireTS       bool          // reject bodies signed without a timestamp
	MaxSkew         time.Duration // stale beyond this (either direction); default 5m
	Now             func() time.Time
}

// Check verifies the signature of body. An empty Secret disables the check.
func (c HMAC) Check(h http.Header, body []byte) error {
	if c.Secret == "" {
		return nil
	}
	header, tsHeader := c.Header, c.TimestampHeader
	if header == "" {
		header = DefaultSignatureHeader
	}
	if tsHeader == "" {
		tsHeader = DefaultTimestampHeader
	}
	sig := strings.TrimSpace(h.Get(header))
	if sig == "" {
		return deny("missing %s header", header)
	}
	got, err := hex.DecodeString(strings.ToLower(sig))
	if err != nil || len(got) != sha256.Size {
		return deny("%s is not a hex SHA-256 HMAC", header)
	}
	mac := hmac.New(sha256.New, []byte(c.Secret))
	if ts := strings.TrimSpace(h.Get(tsHeader)); ts != "" {
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return deny("%s is not Unix seconds", tsHeader)
		}
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		skew := c.MaxSkew
		if skew <= 0 {
			skew = 5 * time.Minute
		}
		if d := now().Sub(time.Unix(sec, 0)); d > skew || d < -skew {
			return deny("stale signature: timestamp is %s off, limit %s", d.Round(time.Second), skew)
		}
		mac.Write([]byte(ts))
		mac.Write([]byte(":"))
	} else if c.RequireTS {
		return deny("missing %s header", tsHeader)
	}
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return deny("signature mismatch")
	}
	return nil
}

// Sign returns the signature Grafana would send (used by tests and the
// load generator). ts may be empty.
func Sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	if ts != "" {
		mac.Write([]byte(ts + ":"))
	}
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
