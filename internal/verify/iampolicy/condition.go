package iampolicy

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Condition is one operator applied to one condition key: the statement's
// conditions all hold (AND), and a condition holds when the request's
// value matches any of Values (OR).
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLike"
	Key      string // as written; matched case-insensitively
	Values   []string

	op       operator
	set      setQualifier
	ifExists bool
}

type setQualifier int

const (
	single setQualifier = iota
	forAnyValue
	forAllValues
)

// operator compares one request value with one policy value.
type operator struct {
	match func(req, pol string) (bool, error)
	// negated operators (StringNotEquals, ...) hold when no value matches,
	// and when the key is missing.
	negated bool
}

func literal(ignoreCase bool) func(string, string) (bool, error) {
	return func(r, p string) (bool, error) {
		if ignoreCase {
			return strings.EqualFold(r, p), nil
		}
		return r == p, nil
	}
}

func like(r, p string) (bool, error) { return Wildcard(p, r, false), nil }

// arnLike compares ARNs element by element (AWS splits on the first five
// colons), each element with wildcards.
func arnLike(r, p string) (bool, error) {
	rs, ps := strings.SplitN(r, ":", 6), strings.SplitN(p, ":", 6)
	if len(rs) != 6 || len(ps) != 6 {
		return false, nil
	}
	for i := range ps {
		if !Wildcard(ps[i], rs[i], false) {
			return false, nil
		}
	}
	return true, nil
}

func boolEq(r, p string) (bool, error) {
	pb, err := strconv.ParseBool(strings.ToLower(p))
	if err != nil {
		return false, fmt.Errorf("value %q of a Bool condition: want true or false", p)
	}
	rb, err := strconv.ParseBool(strings.ToLower(r))
	return err == nil && rb == pb, nil
}

func ipIn(r, p string) (bool, error) {
	pfx, err := netip.ParsePrefix(p)
	if err != nil {
		a, err2 := netip.ParseAddr(p)
		if err2 != nil {
			return false, fmt.Errorf("value %q of an IpAddress condition: want a CIDR or an address", p)
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	a, err := netip.ParseAddr(r)
	return err == nil && pfx.Contains(a), nil
}

func numeric(cmp func(a, b float64) bool) func(string, string) (bool, error) {
	return func(r, p string) (bool, error) {
		pv, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return false, fmt.Errorf("numeric value %q: want a number", p)
		}
		rv, err := strconv.ParseFloat(r, 64)
		return err == nil && cmp(rv, pv), nil
	}
}

// operators are the condition operators this evaluator knows; anything
// else is a parse error (fail closed).
var operators = map[string]operator{
	"StringEquals":              {match: literal(false)},
	"StringNotEquals":           {match: literal(false), negated: true},
	"StringEqualsIgnoreCase":    {match: literal(true)},
	"StringNotEqualsIgnoreCase": {match: literal(true), negated: true},
	"StringLike":                {match: like},
	"StringNotLike":             {match: like, negated: true},
	"ArnEquals":                 {match: literal(false)},
	"ArnNotEquals":              {match: literal(false), negated: true},
	"ArnLike":                   {match: arnLike},
	"ArnNotLike":                {match: arnLike, negated: true},
	"Bool":                      {match: boolEq},
	"IpAddress":                 {match: ipIn},
	"NotIpAddress":              {match: ipIn, negated: true},
	"NumericEquals":             {match: numeric(func(a, b float64) bool { return a == b })},
	"NumericNotEquals":          {match: numeric(func(a, b float64) bool { return a == b }), negated: true},
	"NumericLessThan":           {match: numeric(func(a, b float64) bool { return a < b })},
	"NumericLessThanEquals":     {match: numeric(func(a, b float64) bool { return a <= b })},
	"NumericGreaterThan":        {match: numeric(func(a, b float64) bool { return a > b })},
	"NumericGreaterThanEquals":  {match: numeric(func(a, b float64) bool { return a >= b })},
}

func parseConditions(raw json.RawMessage) ([]Condition, error) {
	var block map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &block); err != nil {
		return nil, fmt.Errorf("element Condition: want {operator: {key: value(s)}}")
	}
	var out []Condition
	for _, opName := range sortedKeys(block) {
		c := Condition{Operator: opName}
		base := opName
		if q, rest, ok := strings.Cut(base, ":"); ok {
			switch q {
			case "ForAnyValue":
				c.set = forAnyValue
			case "ForAllValues":
				c.set = forAllValues
			default:
				return nil, fmt.Errorf("element Condition %q: unknown set qualifier %q", opName, q)
			}
			base = rest
		}
		if b, ok := strings.CutSuffix(base, "IfExists"); ok && base != "Null" {
			c.ifExists, base = true, b
		}
		if base == "Null" {
			if c.set != single || c.ifExists {
				return nil, fmt.Errorf("element Condition %q: Null takes no qualifier", opName)
			}
		} else {
			op, ok := operators[base]
			if !ok {
				return nil, fmt.Errorf("condition operator %q is not supported by this evaluator: the policy cannot be shown to allow or deny", opName)
			}
			c.op = op
		}
		for _, key := range sortedKeys(block[opName]) {
			cc := c
			cc.Key = key
			if err := conditionValues(block[opName][key], &cc.Values); err != nil {
				return nil, fmt.Errorf("element Condition %s %s: %w", opName, key, err)
			}
			if strings.Contains(strings.Join(cc.Values, ""), "${") {
				return nil, fmt.Errorf("element Condition %s %s: policy variables are not supported", opName, key)
			}
			if base == "Null" {
				for _, v := range cc.Values {
					if _, err := strconv.ParseBool(v); err != nil {
						return nil, fmt.Errorf("element Condition Null %s: value %q: want true or false", key, v)
					}
				}
			}
			out = append(out, cc)
		}
	}
	return out, nil
}

// conditionValues reads a string, bool or number, or a list of them, as
// the strings IAM compares.
func conditionValues(raw json.RawMessage, out *[]string) error {
	var list []any
	if json.Unmarshal(raw, &list) != nil {
		var one any
		if err := json.Unmarshal(raw, &one); err != nil {
			return err
		}
		list = []any{one}
	}
	if len(list) == 0 {
		return fmt.Errorf("no values")
	}
	for _, v := range list {
		switch x := v.(type) {
		case string:
			*out = append(*out, x)
		case bool:
			*out = append(*out, strconv.FormatBool(x))
		case float64:
			*out = append(*out, strconv.FormatFloat(x, 'f', -1, 64))
		default:
			return fmt.Errorf("value %v: want a string, boolean or number", v)
		}
	}
	return nil
}

// holds evaluates the condition against the request context.
func (c Condition) holds(ctx map[string][]string) (bool, error) {
	vals, present := lookup(ctx, c.Key)
	if c.Operator == "Null" {
		want, _ := strconv.ParseBool(c.Values[0]) // checked when parsing
		return want == !present, nil
	}
	if !present {
		switch {
		case c.ifExists:
			return true, nil
		case c.set == forAllValues:
			return true, nil // vacuously: no value fails
		case c.set == forAnyValue:
			return false, nil
		default:
			return c.op.negated, nil
		}
	}
	anyMatch := func(rv string) (bool, error) {
		for _, pv := range c.Values {
			ok, err := c.op.match(rv, pv)
			if err != nil {
				return false, fmt.Errorf("condition %s %s: %w", c.Operator, c.Key, err)
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	}
	// hit: whether one request value passes the operator (a negated
	// operator passes when the value matches none of the policy's).
	hit := func(rv string) (bool, error) {
		m, err := anyMatch(rv)
		return m != c.op.negated, err
	}
	switch c.set {
	case forAllValues: // every request value passes
		for _, rv := range vals {
			if ok, err := hit(rv); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case forAnyValue: // some request value passes
		for _, rv := range vals {
			if ok, err := hit(rv); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	default:
		// A single-valued key: a positive operator holds when the value
		// matches one of the policy's, a negated one when it matches none.
		for _, rv := range vals {
			m, err := anyMatch(rv)
			if err != nil {
				return false, err
			}
			if m {
				return !c.op.negated, nil
			}
		}
		return c.op.negated, nil
	}
}

// lookup finds a condition key case-insensitively (IAM's rule for key
// names; values keep their case).
func lookup(ctx map[string][]string, key string) ([]string, bool) {
	if v, ok := ctx[key]; ok {
		return v, len(v) > 0
	}
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, len(v) > 0
		}
	}
	return nil, false
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
