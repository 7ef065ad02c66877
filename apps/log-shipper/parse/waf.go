package parse

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// WAF parses AWS WAF v2 logs: one JSON object per line (pretty-printed
// objects are accepted too).
type WAF struct {
	src *schema.Source
}

// Source implements Parser.
func (p *WAF) Source() *schema.Source { return p.src }

var wafKnown = map[string]bool{
	"timestamp": true, "formatVersion": true, "webaclId": true, "terminatingRuleId": true,
	"terminatingRuleType": true, "action": true, "terminatingRuleMatchDetails": true, "httpSourceName": true,
	"httpSourceId": true, "ruleGroupList": true, "rateBasedRuleList": true, "nonTerminatingMatchingRules": true,
	"requestHeadersInserted": true, "responseCodeSent": true, "httpRequest": true, "labels": true,
	"captchaResponse": true, "challengeResponse": true, "oversizeFields": true,
}

// Parse implements Parser.
func (p *WAF) Parse(ctx context.Context, r io.Reader, file string, out Emitter) error {
	return runJSONObjects(ctx, r, file, out, func(b []byte, _ int) (schema.Record, error) { return p.ParseObject(b) })
}

// ParseObject parses one WAF log object.
func (p *WAF) ParseObject(b []byte) (schema.Record, error) {
	o, err := decodeObject(b)
	if err != nil {
		return schema.Record{}, fmt.Errorf("waf: %w", err)
	}
	s := p.src
	rec := s.NewRecord()
	v := rec.Values
	set := func(col string, val schema.Value) { v[s.MustIndex(col)] = val }
	tsv, err := o.num("timestamp", schema.BigInt)
	if err != nil || tsv.Null() {
		return schema.Record{}, fmt.Errorf("waf: timestamp missing or invalid")
	}
	rec.Time = time.UnixMilli(tsv.Int).UTC()
	set("time", schema.TimeOf(rec.Time))
	set("timestamp", tsv)
	fv, err := o.num("formatVersion", schema.Int)
	if err != nil {
		return schema.Record{}, fmt.Errorf("waf: %w", err)
	}
	set("format_version", fv)
	set("webacl_id", o.str("webaclId"))
	set("terminating_rule_id", o.str("terminatingRuleId"))
	set("terminating_rule_type", o.str("terminatingRuleType"))
	set("action", o.str("action"))
	if v[s.MustIndex("action")].Null() {
		return schema.Record{}, fmt.Errorf("waf: action missing")
	}
	set("http_source_name", o.str("httpSourceName"))
	set("http_source_id", o.str("httpSourceId"))
	rc, err := o.num("responseCodeSent", schema.Int)
	if err != nil {
		return schema.Record{}, fmt.Errorf("waf: %w", err)
	}
	set("response_code_sent", rc)
	if req := o.sub("httpRequest"); req != nil {
		set("client_ip", req.str("clientIp"))
		set("country", req.str("country"))
		set("uri", req.str("uri"))
		set("args", req.str("args"))
		set("http_version", req.str("httpVersion"))
		set("http_method", req.str("httpMethod"))
		set("request_id", req.str("requestId"))
		set("headers", req.json("headers"))
		var headers []struct{ Name, Value string }
		if json.Unmarshal(req["headers"], &headers) == nil {
			for _, h := range headers {
				switch strings.ToLower(h.Name) {
				case "host":
					set("host", schema.StringOf(h.Value))
				case "user-agent":
					set("user_agent", schema.StringOf(h.Value))
				}
			}
		}
	}
	var labels []struct{ Name string }
	if json.Unmarshal(o["labels"], &labels) == nil && len(labels) > 0 {
		names := make([]string, len(labels))
		for i, l := range labels {
			names[i] = l.Name
		}
		set("labels", schema.StringOf(strings.Join(names, ",")))
	}
	var groups []struct {
		TerminatingRule *struct {
			RuleID string `json:"ruleId"`
		} `json:"terminatingRule"`
	}
	if json.Unmarshal(o["ruleGroupList"], &groups) == nil {
		for _, g := range groups {
			if g.TerminatingRule != nil && g.TerminatingRule.RuleID != "" {
				set("rule_group_terminating_rule_id", schema.StringOf(g.TerminatingRule.RuleID))
				break
			}
		}
	}
	set("terminating_rule_match_details", o.json("terminatingRuleMatchDetails"))
	set("rule_group_list", o.json("ruleGroupList"))
	set("rate_based_rule_list", o.json("rateBasedRuleList"))
	set("non_terminating_matching_rules", o.json("nonTerminatingMatchingRules"))
	set("captcha_response", o.json("captchaResponse"))
	set("challenge_response", o.json("challengeResponse"))
	set("oversize_fields", o.json("oversizeFields"))
	set("extra_fields", o.extra(wafKnown))
	return rec, nil
}
