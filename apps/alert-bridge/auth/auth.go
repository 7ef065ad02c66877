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

// PreCheck runs every check that needs no body: the signature header is
// present and well-formed, and the timestamp (when sent, or required) is
// fresh. The receiver runs it before reading the body, so a request that
// cannot be authentic takes no slot and no memory. An empty Secret
// disables it.
func (c HMAC) PreCheck(h http.Header) error {
	if c.Secret == "" {
		return nil
	}
	_, _, err := c.parse(h)
	return err
}

// parse returns the decoded signature and the timestamp ("" if absent).
func (c HMAC) parse(h http.Header) (sig []byte, ts string, err error) {
	header, tsHeader := c.Header, c.TimestampHeader
	if header == "" {
		header = DefaultSignatureHeader
	}
	if tsHeader == "" {
		tsHeader = DefaultTimestampHeader
	}
	raw := strings.TrimSpace(h.Get(header))
	if raw == "" {
		return nil, "", deny("missing %s header", header)
	}
	sig, err = hex.DecodeString(strings.ToLower(raw))
	if err != nil || len(sig) != sha256.Size {
		return nil, "", deny("%s is not a hex SHA-256 HMAC", header)
	}
	ts = strings.TrimSpace(h.Get(tsHeader))
	if ts == "" {
		if c.RequireTS {
			return nil, "", deny("missing %s header", tsHeader)
		}
		return sig, "", nil
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, "", deny("%s is not Unix seconds", tsHeader)
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
		return nil, "", deny("stale signature: timestamp is %s off, limit %s", d.Round(time.Second), skew)
	}
	return sig, ts, nil
}

// Check verifies the signature of body. An empty Secret disables the check.
func (c HMAC) Check(h http.Header, body []byte) error {
	if c.Secret == "" {
		return nil
	}
	got, ts, err := c.parse(h)
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, []byte(c.Secret))
	if ts != "" {
		mac.Write([]byte(ts))
		mac.Write([]byte(":"))
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
