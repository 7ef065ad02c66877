package payload

import (
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/prometheus/alertmanager/template"
)

// alertStream decodes the "alerts" array one element at a time into T
// (template.Alert, or Grafana's extension of it) and folds each into an
// accumulator, so a body of 20,000 alerts never holds 20,000 decoded alerts
// (decoding them all at once allocated ~6x the body). As a
// json.UnmarshalerFrom it reads the elements off the caller's decoder, in
// the same pass over the body as the rest of the message.
type alertStream[T any] struct {
	acc   *accumulator
	alert func(*T) *template.Alert
	check func(i int, v *T) error // sender-specific checks; may be nil
	// fallbackFP computes a fingerprint when the sender sent none (nil:
	// the fingerprint is required).
	fallbackFP func(template.KV) string
}

func (st *alertStream[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return err // null: "alerts must be a non-empty array" later
	case '[':
	default:
		if err := dec.SkipValue(); err != nil {
			return err
		}
		return bad("alerts must be an array")
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for i := 0; dec.PeekKind() != ']'; i++ {
		var v T
		// The decoder carries decodeOptions; UnmarshalDecode uses them.
		if err := json.UnmarshalDecode(dec, &v); err != nil {
			return err
		}
		if err := st.add(i, &v); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// add checks one decoded alert and folds it in.
func (st *alertStream[T]) add(i int, v *T) error {
	if st.check != nil {
		if err := st.check(i, v); err != nil {
			return err
		}
	}
	a := st.alert(v)
	if err := checkAlert(i, a, st.fallbackFP); err != nil {
		return err
	}
	st.acc.add(a)
	return nil
}

// accumulator folds alerts into the parts of a Notification they decide.
type accumulator struct {
	n, firing int
	first     *AlertRef
	eps       []episode
	labels    map[string]string // first non-empty alertname/severity/team
	ann       map[string]string // first non-empty summary/description
}

var (
	routingLabels = []string{"alertname", "severity", "team"}
	summaryKeys   = []string{"summary", "description"}
)

func (a *accumulator) add(al *template.Alert) {
	if a.labels == nil {
		a.labels, a.ann = map[string]string{}, map[string]string{}
	}
	a.n++
	if al.Status == "firing" {
		a.firing++
	}
	if a.first == nil {
		a.first = &AlertRef{Fingerprint: al.Fingerprint, StartsAt: al.StartsAt, EndsAt: al.EndsAt}
	}
	a.eps = append(a.eps, episode{al.Fingerprint, al.Status, al.StartsAt})
	for _, k := range routingLabels {
		if v := al.Labels[k]; v != "" && a.labels[k] == "" {
			a.labels[k] = v
		}
	}
	for _, k := range summaryKeys {
		if v := al.Annotations[k]; v != "" && a.ann[k] == "" {
			a.ann[k] = v
		}
	}
}

func checkAlert(i int, a *template.Alert, fallbackFP func(template.KV) string) error {
	if err := checkStatus(fmt.Sprintf("alerts[%d].status", i), a.Status); err != nil {
		return err
	}
	if len(a.Labels) == 0 {
		return bad("alerts[%d].labels must be a non-empty object", i)
	}
	if a.Fingerprint == "" {
		if fallbackFP == nil {
			return bad("alerts[%d].fingerprint is required", i)
		}
		a.Fingerprint = fallbackFP(a.Labels)
	}
	return nil
}

// finish fills n from the message-level data and the folded alerts.
func (a *accumulator) finish(n *Notification, d *template.Data) error {
	if a.n == 0 {
		return bad("alerts must be a non-empty array")
	}
	pick := func(common template.KV, fallback map[string]string, k string) string {
		if v := common[k]; v != "" {
			return v
		}
		return fallback[k]
	}
	n.Status, n.Receiver = d.Status, d.Receiver
	n.AlertName = pick(d.CommonLabels, a.labels, "alertname")
	n.Severity = pick(d.CommonLabels, a.labels, "severity")
	n.Team = pick(d.CommonLabels, a.labels, "team")
	for _, k := range summaryKeys {
		if n.Summary = pick(d.CommonAnnotations, a.ann, k); n.Summary != "" {
			break
		}
	}
	n.Alerts, n.Firing, n.First = a.n, a.firing, *a.first
	n.GroupID = GroupIDOf(n.Source, n.OrgID, n.Receiver, n.GroupKey)
	n.DedupeKey = dedupeKeyOf(n.GroupID, a.eps)
	return nil
}
