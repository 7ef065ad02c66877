// Package iampolicy evaluates the subset of the AWS IAM policy language the
// platform writes (identity, resource, trust and key policies) offline, so
// verify can ask "would AWS allow this exact request?" of a composed policy.
//
// No maintained Go evaluator is served by the module proxy (the Go IAM
// packages found are type definitions or call AWS's own simulator API), so
// this one implements AWS's documented evaluation logic for what it
// supports and refuses the rest when parsing: a policy using an element,
// a condition operator or a policy variable it does not know is an error,
// never a silent "allowed".
//
// Supported: Effect Allow/Deny with explicit Deny winning, Action/NotAction,
// Resource/NotResource, Principal ("*", AWS, Service), wildcards * and ?,
// and the condition operators String*, Arn*, Bool, Null, IpAddress,
// NotIpAddress and Numeric*, each with an IfExists form and the
// ForAnyValue:/ForAllValues: set qualifiers. Not supported (parse error):
// NotPrincipal, Federated and CanonicalUser principals, Date* and Binary*
// operators, policy variables (${...}).
package iampolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Effect of a statement.
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed policy document.
type Policy struct {
	Version    string
	Statements []Statement
}

// Statement is one parsed statement.
type Statement struct {
	Sid    string
	Effect Effect
	// Exactly one of Action and NotAction is set, likewise for Resource and
	// NotResource; a statement without either resource element (a trust
	// policy) applies to any resource.
	Action, NotAction     []string
	Resource, NotResource []string
	// Principal is nil in identity policies. Any means "*".
	Principal *Principals
	Condition []Condition
}

// Principals is a statement's Principal element.
type Principals struct {
	Any     bool
	AWS     []string // account ids, account root ARNs, role/user ARNs, or "*"
	Service []string
}

// rawStatement is a statement as JSON has it: most elements may be a string
// or a list of strings.
type rawStatement struct {
	Sid          string          `json:"Sid"`
	Effect       string          `json:"Effect"`
	Action       json.RawMessage `json:"Action"`
	NotAction    json.RawMessage `json:"NotAction"`
	Resource     json.RawMessage `json:"Resource"`
	NotResource  json.RawMessage `json:"NotResource"`
	Principal    json.RawMessage `json:"Principal"`
	NotPrincipal json.RawMessage `json:"NotPrincipal"`
	Condition    json.RawMessage `json:"Condition"`
}

// Parse reads a policy document. Every error names the statement (by Sid,
// or index when it has none) and the element that is wrong.
func Parse(doc []byte) (*Policy, error) {
	var raw struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if raw.Version != "2012-10-17" {
		return nil, fmt.Errorf("policy: Version %q: want \"2012-10-17\" (the older version has no policy variables and is refused here)", raw.Version)
	}
	var raws []json.RawMessage
	if err := oneOrMany(raw.Statement, &raws); err != nil || len(raws) == 0 {
		return nil, fmt.Errorf("policy: Statement: want one statement object or a non-empty list of them")
	}
	p := &Policy{Version: raw.Version}
	for i, r := range raws {
		var rs rawStatement
		d := json.NewDecoder(bytes.NewReader(r))
		d.DisallowUnknownFields()
		if err := d.Decode(&rs); err != nil {
			return nil, fmt.Errorf("policy: statement %d: %w", i, err)
		}
		s, err := parseStatement(rs)
		if err != nil {
			name := fmt.Sprintf("statement %d", i)
			if rs.Sid != "" {
				name = "statement " + rs.Sid
			}
			return nil, fmt.Errorf("policy: %s: %w", name, err)
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

// ParseString is Parse for a document held as a string.
func ParseString(doc string) (*Policy, error) { return Parse([]byte(doc)) }

func parseStatement(rs rawStatement) (Statement, error) {
	s := Statement{Sid: rs.Sid, Effect: Effect(rs.Effect)}
	if s.Effect != Allow && s.Effect != Deny {
		return s, fmt.Errorf("element Effect %q: want Allow or Deny", rs.Effect)
	}
	var err error
	if s.Action, s.NotAction, err = exclusive("Action", rs.Action, rs.NotAction, true); err != nil {
		return s, err
	}
	if s.Resource, s.NotResource, err = exclusive("Resource", rs.Resource, rs.NotResource, false); err != nil {
		return s, err
	}
	for _, r := range append(append([]string{}, s.Resource...), s.NotResource...) {
		if strings.Contains(r, "${") {
			return s, fmt.Errorf("resource %q: policy variables are not supported", r)
		}
	}
	if len(rs.NotPrincipal) > 0 {
		return s, fmt.Errorf("element NotPrincipal is not supported")
	}
	if len(rs.Principal) > 0 {
		if s.Principal, err = parsePrincipal(rs.Principal); err != nil {
			return s, err
		}
	}
	if len(rs.Condition) > 0 {
		if s.Condition, err = parseConditions(rs.Condition); err != nil {
			return s, err
		}
	}
	return s, nil
}

// exclusive reads an element and its Not form: exactly one when required,
// at most one otherwise.
func exclusive(name string, pos, neg json.RawMessage, required bool) ([]string, []string, error) {
	if len(pos) > 0 && len(neg) > 0 {
		return nil, nil, fmt.Errorf("both %s and Not%s", name, name)
	}
	if len(pos) == 0 && len(neg) == 0 {
		if required {
			return nil, nil, fmt.Errorf("no %s or Not%s", name, name)
		}
		return nil, nil, nil
	}
	var p, n []string
	if len(pos) > 0 {
		if err := strings1(pos, &p); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		return p, nil, nil
	}
	if err := strings1(neg, &n); err != nil {
		return nil, nil, fmt.Errorf("element Not%s: %w", name, err)
	}
	return nil, n, nil
}

func parsePrincipal(raw json.RawMessage) (*Principals, error) {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return nil, fmt.Errorf("element Principal %q: a string principal must be \"*\"", star)
		}
		return &Principals{Any: true}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("element Principal: want \"*\" or an object of AWS/Service lists")
	}
	p := &Principals{}
	for k, v := range m {
		var vs []string
		if err := strings1(v, &vs); err != nil {
			return nil, fmt.Errorf("element Principal.%s: %w", k, err)
		}
		switch k {
		case "AWS":
			p.AWS = vs
		case "Service":
			p.Service = vs
		default:
			return nil, fmt.Errorf("element Principal.%s is not supported (AWS and Service are)", k)
		}
	}
	return p, nil
}

// strings1 reads a string or a non-empty list of strings.
func strings1(raw json.RawMessage, out *[]string) error {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		*out = []string{one}
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil || len(*out) == 0 {
		return fmt.Errorf("want a string or a non-empty list of strings")
	}
	return nil
}

// oneOrMany reads an object or a list of objects.
func oneOrMany(raw json.RawMessage, out *[]json.RawMessage) error {
	t := bytes.TrimSpace(raw)
	if len(t) > 0 && t[0] == '{' {
		*out = []json.RawMessage{t}
		return nil
	}
	return json.Unmarshal(raw, out)
}
