package deliver

import (
	"bytes"
	"encoding/json"
	"testing"
)

// referenceBodyError is the rule decoded with encoding/json into a map
// (exact names, the last of repeated members), the oracle for readAnswer.
func referenceBodyError(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return false
	}
	if string(obj["ok"]) == "false" {
		return true
	}
	for _, k := range []string{"error", "errors"} {
		switch string(bytes.TrimSpace(obj[k])) {
		case "", "null", "false", `""`, "[]", "{}":
			continue
		}
		return true
	}
	return false
}

// The one-pass answer decoder judges every body as the map-based rule does.
func FuzzBodyErrorMatchesReference(f *testing.F) {
	for _, s := range []string{`{"ok":true}`, `{"ok":false}`, `{"error":"x"}`, `{"errors":[]}`, `Workflow was started`,
		`{"ok":true,"ok":false}`, `{"error":{"a":[1,2]}}`, "{\"error\":\"\xff\"}", `{"error":"\ud800"}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if got, want := readAnswer(raw).failed(), referenceBodyError(raw); got != want {
			t.Fatalf("%q: failure=%v, the encoding/json rule says %v", raw, got, want)
		}
	})
}
