package payload

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeFixtures(t *testing.T) {
	am, err := DecodeAlertmanager(readFixture(t, "alertmanager-v4-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	if am.AlertName != "KubePodCrashLooping" || am.Severity != "critical" || am.Team != "payments" || am.Alerts != 2 || am.Firing != 2 {
		t.Fatalf("alertmanager fields: %+v", am)
	}
	if am.Summary != "Pod is crash looping." || am.Receiver != "alert-bridge" || am.First.Fingerprint != "5e3c1b8f2a9d0c47" {
		t.Fatalf("summary %q receiver %q first %+v", am.Summary, am.Receiver, am.First)
	}
	res, err := DecodeAlertmanager(readFixture(t, "alertmanager-v4-resolved.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.DedupeKey == am.DedupeKey {
		t.Fatal("resolved and firing share a dedupe key")
	}
	if res.GroupID != am.GroupID {
		t.Fatal("resolved and firing are in different groups")
	}
	g, err := DecodeGrafana(readFixture(t, "grafana-default-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	if g.AlertName != "alert1" || g.OrgID != 1 || g.First.Fingerprint != "fac0861a85de433a" || g.Status != "firing" || g.Receiver != "my_receiver" {
		t.Fatalf("grafana fields: %+v", g)
	}
}

// The dedupe key decides what the second copy of a notification is: the
// HA peer's copy must collide, every real change of state must not.
func TestDedupeKey(t *testing.T) {
	key := func(t *testing.T, body string) Digest {
		t.Helper()
		n, err := DecodeAlertmanager([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return n.DedupeKey
	}
	second := `{"status":"firing","labels":{"alertname":"A","i":"2"},"fingerprint":"f2","startsAt":"2026-01-01T00:00:00Z"}`
	first := `{"status":"firing","labels":{"alertname":"A"},"fingerprint":"f1","startsAt":"2026-01-01T00:00:00Z"}`
	two := strings.Replace(amOK, first, first+","+second, 1)
	twoReordered := strings.Replace(amOK, first, second+","+first, 1)
	cases := []struct {
		name, other string
		same        bool
	}{
		{"HA copy: identical body", amOK, true},
		{"HA copy: other externalURL and reason", strings.Replace(amOK, `"receiver":"r"`, `"receiver":"r","externalURL":"http://am-1","notification_reason":"x"`, 1), true},
		{"new alert in the group", two, false},
		{"resolved", strings.ReplaceAll(amOK, `"firing"`, `"resolved"`), false},
		{"new firing episode (startsAt)", strings.Replace(amOK, `2026-01-01T00:00:00Z`, `2026-01-01T01:00:00Z`, 1), false},
		{"other receiver", strings.Replace(amOK, `"receiver":"r"`, `"receiver":"r2"`, 1), false},
		{"other group", strings.Replace(amOK, `"groupKey":"g"`, `"groupKey":"g2"`, 1), false},
	}
	k := key(t, amOK)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := key(t, c.other) == k; got != c.same {
				t.Fatalf("same key = %v, want %v", got, c.same)
			}
		})
	}
	if key(t, two) != key(t, twoReordered) {
		t.Fatal("alert order changed the dedupe key")
	}
}

// Every field the sender sent reaches n8n: the body is kept byte for byte,
// including fields Alertmanager's types do not know.
func TestRawKept(t *testing.T) {
	for _, c := range []struct {
		name string
		body []byte
		dec  func([]byte) (*Notification, error)
	}{
		{"alertmanager", readFixture(t, "alertmanager-v4-firing.json"), DecodeAlertmanager},
		{"grafana", readFixture(t, "grafana-default-firing.json"), DecodeGrafana},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := c.dec(c.body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(n.Raw, c.body) {
				t.Fatal("raw body changed")
			}
		})
	}
}

const amOK = `{"version":"4","groupKey":"g","status":"firing","receiver":"r","alerts":[{"status":"firing","labels":{"alertname":"A"},"fingerprint":"f1","startsAt":"2026-01-01T00:00:00Z"}]}`
const grOK = `{"version":"1","groupKey":"g","status":"firing","orgId":1,"alerts":[{"status":"firing","labels":{"alertname":"A"},"fingerprint":"f1","values":{"B":1.5}}]}`

func TestDecodeMalformed(t *testing.T) {
	cases := []struct {
		name, body, reason string
		grafana            bool
	}{
		{"empty", ``, "empty body", false},
		{"array", `[1]`, "must be a JSON object", false},
		{"syntax", `{"version":"4",`, "malformed JSON", false},
		{"trailing", amOK + `{}`, "trailing data", false},
		{"no version", `{"groupKey":"g","status":"firing","alerts":[]}`, "version is required", false},
		{"version 3", strings.Replace(amOK, `"4"`, `"3"`, 1), "unsupported Alertmanager webhook version", false},
		{"version number", strings.Replace(amOK, `"4"`, `4`, 1), `field "version"`, false},
		{"no groupKey", strings.Replace(amOK, `"groupKey":"g",`, ``, 1), "groupKey is required", false},
		{"groupKey number", strings.Replace(amOK, `"groupKey":"g"`, `"groupKey":12`, 1), `field "groupKey"`, false},
		{"bad status", strings.Replace(amOK, `"status":"firing","receiver"`, `"status":"burning","receiver"`, 1), `status must be`, false},
		{"no alerts", strings.Replace(amOK, `"alerts":[{"status":"firing","labels":{"alertname":"A"},"fingerprint":"f1","startsAt":"2026-01-01T00:00:00Z"}]`, `"alerts":[]`, 1), "alerts must be a non-empty array", false},
		{"alerts object", strings.Replace(amOK, `"alerts":[`, `"alerts":{"x":[`, 1) + `}`, "alerts must be an array", false},
		{"alert bad status", strings.Replace(amOK, `"alerts":[{"status":"firing"`, `"alerts":[{"status":"pending"`, 1), "alerts[0].status", false},
		{"alert no labels", strings.Replace(amOK, `"labels":{"alertname":"A"},`, ``, 1), "alerts[0].labels", false},
		{"label not string", strings.Replace(amOK, `{"alertname":"A"}`, `{"alertname":7}`, 1), `expected string`, false},
		{"bad time", strings.Replace(amOK, `2026-01-01T00:00:00Z`, `yesterday`, 1), "malformed JSON", false},
		{"negative truncated", strings.Replace(amOK, `"receiver"`, `"truncatedAlerts":-1,"receiver"`, 1), "truncatedAlerts", false},
		{"invalid utf8", "{\"version\":\"4\",\"groupKey\":\"\xff\"}", "UTF-8", false},
		{"grafana version 4", strings.Replace(grOK, `"1"`, `"4"`, 1), "unsupported Grafana webhook version", true},
		{"grafana no fingerprint", strings.Replace(grOK, `,"fingerprint":"f1"`, ``, 1), "alerts[0].fingerprint is required", true},
		{"grafana values string", strings.Replace(grOK, `{"B":1.5}`, `"x"`, 1), "values must be an object", true},
		{"grafana orgId string", strings.Replace(grOK, `"orgId":1`, `"orgId":"1"`, 1), `field "orgId"`, true},
		{"grafana no groupKey", strings.Replace(grOK, `"groupKey":"g",`, ``, 1), "groupKey is required", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.grafana {
				_, err = DecodeGrafana([]byte(c.body))
			} else {
				_, err = DecodeAlertmanager([]byte(c.body))
			}
			if err == nil {
				t.Fatal("decoded a malformed body")
			}
			if !IsDecodeError(err) {
				t.Fatalf("not a DecodeError: %v", err)
			}
			if !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("reason %q does not mention %q", err, c.reason)
			}
		})
	}
}

func TestUnknownFieldsTolerated(t *testing.T) {
	body := strings.Replace(amOK, `"receiver":"r"`, `"receiver":"r","notification_reason":"new","futureField":{"x":[1]}`, 1)
	if _, err := DecodeAlertmanager([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeGrafana([]byte(strings.Replace(grOK, `"orgId":1`, `"orgId":1,"newThing":true`, 1))); err != nil {
		t.Fatal(err)
	}
}

func TestMissingFingerprintDerived(t *testing.T) {
	n, err := DecodeAlertmanager([]byte(strings.Replace(amOK, `,"fingerprint":"f1"`, ``, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(n.First.Fingerprint, "sha256:") {
		t.Fatalf("fingerprint %q", n.First.Fingerprint)
	}
}

func FuzzDecodeAlertmanager(f *testing.F) {
	f.Add([]byte(amOK))
	f.Add(readFixture(f, "alertmanager-v4-firing.json"))
	f.Add([]byte(`{"version":"4"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := DecodeAlertmanager(body)
		if err != nil {
			if !IsDecodeError(err) {
				t.Fatalf("non-client error %v", err)
			}
			return
		}
		checkAccepted(t, n, body)
	})
}

func FuzzDecodeGrafana(f *testing.F) {
	f.Add([]byte(grOK))
	f.Add(readFixture(f, "grafana-default-firing.json"))
	f.Add([]byte(`{"version":"1","alerts":[{"values":null}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := DecodeGrafana(body)
		if err != nil {
			if !IsDecodeError(err) {
				t.Fatalf("non-client error %v", err)
			}
			return
		}
		checkAccepted(t, n, body)
	})
}

// checkAccepted holds for every body a decoder accepts.
func checkAccepted(t *testing.T, n *Notification, body []byte) {
	t.Helper()
	if n.GroupKey == "" || n.Alerts == 0 || n.First.Fingerprint == "" || (n.Status != "firing" && n.Status != "resolved") {
		t.Fatalf("accepted an invalid notification: %+v", n)
	}
	if n.Firing > n.Alerts || !bytes.Equal(n.Raw, body) {
		t.Fatalf("summary inconsistent with the body: %+v", n)
	}
	if n.GroupID == (Digest{}) || n.DedupeKey == (Digest{}) {
		t.Fatal("zero keys")
	}
}
