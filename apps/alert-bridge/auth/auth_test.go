package auth

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBearer(t *testing.T) {
	cases := []struct {
		name, token, header string
		ok                  bool
	}{
		{"good", "s3cret", "Bearer s3cret", true},
		{"good lowercase scheme", "s3cret", "bearer s3cret", true},
		{"disabled", "", "", true},
		{"missing", "s3cret", "", false},
		{"wrong token", "s3cret", "Bearer nope", false},
		{"prefix of token", "s3cret", "Bearer s3cre", false},
		{"basic scheme", "s3cret", "Basic czNjcmV0", false},
		{"no scheme", "s3cret", "s3cret", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.header != "" {
				h.Set("Authorization", c.header)
			}
			err := Bearer{Token: c.token}.Check(h)
			if (err == nil) != c.ok {
				t.Fatalf("err=%v want ok=%v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("not ErrUnauthorized: %v", err)
			}
		})
	}
}

func TestHMAC(t *testing.T) {
	body := []byte(`{"version":"1"}`)
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	stale := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	future := strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10)
	cases := []struct {
		name      string
		sig, ts   string
		requireTS bool
		ok        bool
	}{
		{"good body only", Sign("k", "", body), "", false, true},
		{"good with timestamp", Sign("k", ts, body), ts, false, true},
		{"uppercase hex", strings.ToUpper(Sign("k", ts, body)), ts, false, true},
		{"wrong secret", Sign("other", ts, body), ts, false, false},
		{"signed without ts, sent with ts", Sign("k", "", body), ts, false, false},
		{"stale timestamp", Sign("k", stale, body), stale, false, false},
		{"future timestamp", Sign("k", future, body), future, false, false},
		{"timestamp not a number", Sign("k", "abc", body), "abc", false, false},
		{"missing signature", "", ts, false, false},
		{"not hex", "zz", ts, false, false},
		{"ts required but absent", Sign("k", "", body), "", true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.sig != "" {
				h.Set(DefaultSignatureHeader, c.sig)
			}
			if c.ts != "" {
				h.Set(DefaultTimestampHeader, c.ts)
			}
			v := HMAC{Secret: "k", RequireTS: c.requireTS, MaxSkew: 5 * time.Minute, Now: func() time.Time { return now }}
			err := v.Check(h, body)
			if (err == nil) != c.ok {
				t.Fatalf("err=%v want ok=%v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("not ErrUnauthorized: %v", err)
			}
		})
	}
	h := http.Header{}
	h.Set(DefaultSignatureHeader, Sign("k", ts, body))
	h.Set(DefaultTimestampHeader, ts)
	if err := (HMAC{Secret: "k", Now: func() time.Time { return now }}).Check(h, []byte(`{"version":"2"}`)); err == nil {
		t.Fatal("accepted a tampered body")
	}
}
