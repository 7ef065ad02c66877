package iampolicy

import (
	"fmt"
	"strings"
)

// Principal is who makes a request: an AWS service (Service, e.g.
// "delivery.logs.amazonaws.com") or an IAM identity (AWS, an account root
// or role ARN).
type Principal struct {
	Service string
	AWS     string
}

func (p Principal) String() string {
	if p.Service != "" {
		return "service " + p.Service
	}
	return p.AWS
}

// Request is one API call as IAM sees it.
type Request struct {
	Principal Principal
	Action    string // service:Operation
	Resource  string // the ARN the action acts on
	// Context holds the request's condition keys (aws:SourceArn,
	// s3:x-amz-acl, ...), each with its values.
	Context map[string][]string
}

func (r Request) String() string {
	return fmt.Sprintf("%s by %s on %s", r.Action, r.Principal, r.Resource)
}

// Decision is the outcome of evaluating one policy.
type Decision int

// Outcomes, in increasing precedence.
const (
	// NotApplicable: no statement matches (an implicit deny).
	NotApplicable Decision = iota
	Allowed
	ExplicitDeny
)

func (d Decision) String() string {
	return [...]string{"no statement allows it", "allowed", "explicitly denied"}[d]
}

// Result says what decided and which statement did it.
type Result struct {
	Decision  Decision
	Statement string // Sid or index of the deciding statement
	// ViaAccount: the allowing statement names the caller's account, not
	// the caller: in a resource policy that delegates the decision to the
	// account's IAM policies.
	ViaAccount bool
}

// Evaluate applies one policy to a request: an explicit Deny wins over any
// Allow; with neither, the request is not allowed by this policy.
func (p *Policy) Evaluate(r Request) (Result, error) {
	res := Result{}
	for i, s := range p.Statements {
		ok, err := s.applies(r)
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", s.name(i), err)
		}
		if !ok {
			continue
		}
		if s.Effect == Deny {
			return Result{Decision: ExplicitDeny, Statement: s.name(i)}, nil
		}
		via := s.Principal != nil && s.Principal.viaAccount(r.Principal)
		if res.Decision == NotApplicable || (res.ViaAccount && !via) {
			res = Result{Decision: Allowed, Statement: s.name(i), ViaAccount: via}
		}
	}
	return res, nil
}

func (s Statement) name(i int) string {
	if s.Sid != "" {
		return s.Sid
	}
	return fmt.Sprintf("statement %d", i)
}

func (s Statement) applies(r Request) (bool, error) {
	if s.Principal != nil && !s.Principal.matches(r.Principal) {
		return false, nil
	}
	if s.Action != nil && !anyWildcard(s.Action, r.Action, true) {
		return false, nil
	}
	if s.NotAction != nil && anyWildcard(s.NotAction, r.Action, true) {
		return false, nil
	}
	if s.Resource != nil && !anyWildcard(s.Resource, r.Resource, false) {
		return false, nil
	}
	if s.NotResource != nil && anyWildcard(s.NotResource, r.Resource, false) {
		return false, nil
	}
	for _, c := range s.Condition {
		ok, err := c.holds(r.Context)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// matches: "*" is anyone; an account id or account root ARN in AWS is any
// identity of that account; any other AWS entry is that exact ARN; a
// Service entry is that service principal.
func (p *Principals) matches(who Principal) bool {
	if p.Any {
		return true
	}
	if who.Service != "" {
		for _, s := range p.Service {
			if s == who.Service {
				return true
			}
		}
		for _, a := range p.AWS {
			if a == "*" {
				return true
			}
		}
		return false
	}
	acct := accountOf(who.AWS)
	for _, a := range p.AWS {
		switch {
		case a == "*", a == who.AWS:
			return true
		case acct != "" && (a == acct || a == "arn:aws:iam::"+acct+":root"):
			return true
		}
	}
	return false
}

// viaAccount reports whether p matches who only by naming who's account.
func (p *Principals) viaAccount(who Principal) bool {
	if who.AWS == "" || p.Any {
		return false
	}
	for _, a := range p.AWS {
		if a == "*" || a == who.AWS {
			return false
		}
	}
	return true
}

// accountOf is the account id of an IAM ARN (arn:aws:iam::123:role/x).
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" {
		return parts[4]
	}
	return ""
}

// Wildcard matches s against pattern, where * is any run of characters and
// ? any one character. Actions compare case-insensitively, ARNs exactly.
func Wildcard(pattern, s string, ignoreCase bool) bool {
	if ignoreCase {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	// Iterative matcher with backtracking to the last star: linear in
	// practice, no recursion to blow up on hostile patterns.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func anyWildcard(patterns []string, s string, ignoreCase bool) bool {
	for _, p := range patterns {
		if Wildcard(p, s, ignoreCase) {
			return true
		}
	}
	return false
}
