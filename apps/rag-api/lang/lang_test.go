package lang

import "testing"

func TestIsKorean(t *testing.T) {
	cases := []struct {
		in     string
		want   bool
		reason string
	}{
		{"연차 휴가는 며칠인가요?", true, "all Hangul"},
		{"VPN 설정 방법", true, "Hangul with a Latin acronym"},
		{"How do I set up the VPN?", false, "all Latin"},
		{"Kubernetes cluster의 upgrade procedure", false, "one Hangul particle in English text"},
		{"", false, "empty"},
		{"123 456", false, "no letters"},
	}
	for _, c := range cases {
		if got := IsKorean(c.in); got != c.want {
			t.Errorf("IsKorean(%q) = %v, want %v (%s)", c.in, got, c.want, c.reason)
		}
	}
}
