package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
)

// The reference decoder: the same messages decoded by encoding/json
// (json.Unmarshal into Alertmanager's types, the alerts streamed through
// UnmarshalJSON). FuzzDecodeMatchesEncodingJSON holds the bridge's
// decoder (json/v2 with encoding/json's options) to its answers.

type refStream[T any] struct{ *alertStream[T] }

func (r *refStream[T]) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return bad("alerts must be an array")
	}
	for i := 0; dec.More(); i++ {
		var v T
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if err := r.add(i, &v); err != nil {
			return err
		}
	}
	return nil
}

func refJSON(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return bad("empty body")
	}
	if body[0] != '{' {
		return bad("body must be a JSON object")
	}
	if !utf8.Valid(body) {
		return bad("body is not valid UTF-8")
	}
	if err := json.Unmarshal(body, v); err != nil {
		if IsDecodeError(err) {
			return err
		}
		var se *json.SyntaxError
		if errors.As(err, &se) && strings.Contains(se.Error(), "after top-level value") {
			return bad("trailing data after the JSON object")
		}
		return &DecodeError{Reason: "malformed JSON", Err: describe(err)}
	}
	return nil
}

func refDecodeAlertmanager(body []byte) (*Notification, error) {
	var acc accumulator
	m := struct {
		webhook.Message
		Version  *string                    `json:"version"`
		GroupKey *string                    `json:"groupKey"`
		Alerts   *refStream[template.Alert] `json:"alerts"`
	}{Message: webhook.Message{Data: &template.Data{}}, Alerts: &refStream[template.Alert]{&alertStream[template.Alert]{acc: &acc,
		alert: func(a *template.Alert) *template.Alert { return a }, fallbackFP: labelsFingerprint}}}
	if err := refJSON(body, &m); err != nil {
		return nil, err
	}
	if err := (header{m.Version, m.GroupKey, m.Data}).check("4", "Alertmanager"); err != nil {
		return nil, err
	}
	n := &Notification{Source: SourceAlertmanager, Version: *m.Version, GroupKey: *m.GroupKey, TruncatedAlerts: m.TruncatedAlerts, Raw: body}
	return n, acc.finish(n, m.Data)
}

func refDecodeGrafana(body []byte) (*Notification, error) {
	var acc accumulator
	m := struct {
		webhook.Message
		Version  *string                  `json:"version"`
		GroupKey *string                  `json:"groupKey"`
		OrgID    int64                    `json:"orgId"`
		State    string                   `json:"state"`
		Title    string                   `json:"title"`
		Text     string                   `json:"message"`
		Alerts   *refStream[grafanaAlert] `json:"alerts"`
	}{Message: webhook.Message{Data: &template.Data{}}, Alerts: &refStream[grafanaAlert]{&alertStream[grafanaAlert]{acc: &acc,
		alert: func(a *grafanaAlert) *template.Alert { return &a.Alert }, check: grafanaCheck}}}
	if err := refJSON(body, &m); err != nil {
		return nil, err
	}
	if err := (header{m.Version, m.GroupKey, m.Data}).check("1", "Grafana"); err != nil {
		return nil, err
	}
	n := &Notification{Source: SourceGrafana, Version: *m.Version, GroupKey: *m.GroupKey, OrgID: m.OrgID, TruncatedAlerts: m.TruncatedAlerts, Raw: body}
	return n, acc.finish(n, m.Data)
}

// sameAnswer fails t unless both decoders accept body with equal
// notifications or both reject it as a client error.
func sameAnswer(t *testing.T, body []byte, fast, ref func([]byte) (*Notification, error)) {
	t.Helper()
	nf, ef := fast(body)
	nr, er := ref(body)
	switch {
	case (ef == nil) != (er == nil):
		t.Fatalf("decoders disagree on %q:\n json/v2:       %v\n encoding/json: %v", body, ef, er)
	case ef != nil:
		if !IsDecodeError(ef) {
			t.Fatalf("json/v2: not a client error: %v", ef)
		}
	case !reflect.DeepEqual(nf, nr):
		t.Fatalf("decoders disagree on %q:\n json/v2:       %+v\n encoding/json: %+v", body, nf, nr)
	}
}

// Inputs where encoding/json's rules are easy to get wrong.
var tricky = []string{
	amOK,
	`{"VERSION":"4","groupkey":"g","Status":"firing","alerts":[{"STATUS":"firing","Labels":{"a":"b"}}]}`,
	`{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"}}],"alerts":[{"status":"resolved","labels":{"c":null}}]}`,
	`{"version":"4","groupKey":"g","status":"firing","commonLabels":{"x":"1"},"commonLabels":{"y":"2"},"alerts":[{"status":"firing","labels":{"a":"b"}}]}`,
	`{"version":"4","groupKey":"g","status":"firing","commonLabels":{"x":"1"},"commonLabels":null,"alerts":[{"status":"firing","labels":{"a":"b"}}]}`,
	`{"version":"4","groupKey":null,"status":"firing","alerts":[{"status":"firing","labels":{"a":"b"}}]}`,
	`{"version":"4","groupKey":"g","status":"firing","alerts":[null,{"status":"firing","labels":{"a":"b"}}]}`,
	`{"version":"4","groupKey":"g\u00e9\ud83d\ude00\ud800x","status":"firing","alerts":[{"status":"firing","labels":{"a\n":"b\/"}}]}`,
	`{"version":"4","groupKey":"g","status":"firing","truncatedAlerts":1.0,"alerts":[{"status":"firing","labels":{"a":"b"}}]}`,
	`{"version":"4","groupKey":"g","status":"firing","truncatedAlerts":18446744073709551616,"alerts":[{"status":"firing","labels":{"a":"b"}}]}`,
	`{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":null,"endsAt":"2026-01-01T00:00:00+09:00"}]}`,
	`{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":{}}]}`,
	`{"version":"4","groupKey":"g","status":"firing","receiver":["x"],"alerts":[{"status":"firing","labels":{"a":"b"}}]}`,
	`{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"},"x":{"y":[1,"]",{"z":"}"}]}}]}`,
	`{"version":"4","groupKey":"g","status":"firing","alerts":"x"}`,
	`{"version":"4","groupKey":"g","status":"firing","alerts":[1]}`,
	` {"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"}}]} ` + "\n",
	`{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"}}]}x`,
	grOK,
	`{"version":"1","groupKey":"g","status":"firing","orgId":-3,"alerts":[{"status":"firing","labels":{"a":"b"},"fingerprint":"f","values":null,"orgId":2}]}`,
	`{"version":"1","groupKey":"g","status":"firing","orgId":"1","alerts":[{"status":"firing","labels":{"a":"b"},"fingerprint":"f"}]}`,
	`{"version":"1","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"},"fingerprint":"f","values":[1]}]}`,
}

func TestDecodersAgree(t *testing.T) {
	bodies := [][]byte{readFixture(t, "alertmanager-v4-firing.json"), readFixture(t, "alertmanager-v4-resolved.json"),
		readFixture(t, "grafana-default-firing.json")}
	for _, src := range []string{"alertmanager", "grafana"} {
		bodies = append(bodies, loadgen.Body(loadgen.Spec{Source: src, Group: "g", Alerts: 20}))
	}
	for _, s := range tricky {
		bodies = append(bodies, []byte(s))
	}
	for i, b := range bodies {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			sameAnswer(t, b, DecodeAlertmanager, refDecodeAlertmanager)
			sameAnswer(t, b, DecodeGrafana, refDecodeGrafana)
		})
	}
}

// FuzzDecodeMatchesEncodingJSON: on any body the bridge's decoder gives
// encoding/json's answer (accept with the same notification, or reject).
func FuzzDecodeMatchesEncodingJSON(f *testing.F) {
	for _, s := range tricky {
		f.Add([]byte(s))
	}
	f.Add(readFixture(f, "alertmanager-v4-firing.json"))
	f.Add(readFixture(f, "grafana-default-firing.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		sameAnswer(t, body, DecodeAlertmanager, refDecodeAlertmanager)
		sameAnswer(t, body, DecodeGrafana, refDecodeGrafana)
	})
}
