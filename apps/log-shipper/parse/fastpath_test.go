package parse

import (
	"net/netip"
	"testing"
	"time"
)

func TestParseUTC(t *testing.T) {
	for _, tc := range []struct {
		in     string
		ok     bool
		reason string
	}{
		{"2026-11-28T10:00:00.123456Z", true, "ALB's microseconds"},
		{"2026-11-28T10:00:00Z", true, "no fraction (CloudTrail)"},
		{"2026-11-28T10:00:00.1Z", true, "one fractional digit"},
		{"2026-11-28T10:00:00.123456789Z", true, "nanoseconds"},
		{"2024-02-29T23:59:59Z", true, "leap day"},
		{"2026-02-29T00:00:00Z", false, "no leap day in 2026: left to time.Parse, which rejects it"},
		{"2100-02-29T00:00:00Z", false, "2100 is no leap year"},
		{"2026-11-28T24:00:00Z", false, "hour out of range"},
		{"2026-11-28T10:00:60Z", false, "leap second: time.Parse decides"},
		{"2026-11-28T10:00:00.Z", false, "empty fraction"},
		{"2026-11-28T10:00:00.1234567890Z", false, "ten fractional digits: time.Parse decides"},
		{"2026-11-28T10:00:00+09:00", false, "an offset is time.Parse's"},
		{"2026-11-28 10:00:00Z", false, "space for T"},
		{"2026-1a-28T10:00:00Z", false, "not a digit"},
	} {
		got, ok := parseUTC(tc.in)
		if ok != tc.ok {
			t.Errorf("%s (%s): ok = %v, want %v", tc.in, tc.reason, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		want, err := time.Parse(time.RFC3339Nano, tc.in)
		if err != nil || !want.Equal(got) {
			t.Errorf("%s (%s): %v, time.Parse says %v, %v", tc.in, tc.reason, got, want, err)
		}
	}
}

// FuzzParseUTC: whatever the fast path accepts, time.Parse accepts as the
// same instant, so ts gives the same answer with or without it.
func FuzzParseUTC(f *testing.F) {
	for _, s := range []string{"2026-11-28T10:00:00.123456Z", "2024-02-29T23:59:59Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseUTC(s)
		if !ok {
			return
		}
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("%q: fast path accepted %v, time.Parse rejects: %v", s, got, err)
		}
		if !want.Equal(got) || got.Location() != time.UTC {
			t.Fatalf("%q: fast path %v, time.Parse %v", s, got, want)
		}
	})
}

func TestIsIPv4(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"192.168.1.10", true}, {"0.0.0.0", true}, {"255.255.255.255", true},
		{"256.1.1.1", false}, {"01.2.3.4", false}, {"1.2.3", false}, {"1.2.3.4.5", false},
		{"1..2.3", false}, {"1.2.3.4.", false}, {"", false}, {"1234.1.1.1", false}, {"::1", false}, {"a.b.c.d", false},
	} {
		if got := isIPv4(tc.in); got != tc.want {
			t.Errorf("isIPv4(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzIsIPv4: the fast check accepts only what netip.ParseAddr accepts as
// IPv4, so hostPort accepts and rejects the same addresses with it.
func FuzzIsIPv4(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "01.2.3.4", "256.0.0.1", "1.2.3.4.5", "::ffff:1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !isIPv4(s) {
			return
		}
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			t.Fatalf("%q: fast check accepts, netip says %v, %v", s, a, err)
		}
	})
}
