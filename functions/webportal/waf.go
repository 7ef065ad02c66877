package webportal

import (
	"encoding/json"

	wafv2 "github.com/upbound/provider-aws/v2/apis/namespaced/wafv2/v1beta1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/compose"
)

// managedGroups are the AWS managed rule groups every portal gets, by
// priority: bad IPs first, then common exploits, known bad inputs, SQLi.
var managedGroups = []string{
	"AWSManagedRulesAmazonIpReputationList",
	"AWSManagedRulesCommonRuleSet",
	"AWSManagedRulesKnownBadInputsRuleSet",
	"AWSManagedRulesSQLiRuleSet",
}

func visibility(metric string) map[string]any {
	return map[string]any{"CloudWatchMetricsEnabled": true, "MetricName": metric, "SampledRequestsEnabled": true}
}

// rules is the web ACL's rules in the WAFv2 API's JSON shape.
func (b *builder) rules() string {
	var rs []map[string]any
	for i, g := range managedGroups {
		rs = append(rs, map[string]any{
			"Name":             g,
			"Priority":         10 * (i + 1),
			"OverrideAction":   map[string]any{"None": map[string]any{}},
			"Statement":        map[string]any{"ManagedRuleGroupStatement": map[string]any{"VendorName": "AWS", "Name": g}},
			"VisibilityConfig": visibility(g),
		})
	}
	rs = append(rs, map[string]any{
		"Name":             "rate-limit-per-ip",
		"Priority":         100,
		"Action":           map[string]any{"Block": map[string]any{}},
		"Statement":        map[string]any{"RateBasedStatement": map[string]any{"Limit": b.spec.WAF.RateLimit, "AggregateKeyType": "IP"}},
		"VisibilityConfig": visibility("rate-limit-per-ip"),
	})
	j, _ := json.Marshal(rs) // maps of strings and ints always marshal
	return string(j)
}

// firewall composes the web ACL, its logging to the lake's Firehose, and
// its association with the ALB once the ALB's ARN is known.
//
// The web ACL is unstructured: its default action is `allow: {}`, and the
// typed struct's empty AllowParameters would be dropped by the omitempty
// semantics every function must use, leaving no default action at all.
func (b *builder) firewall() {
	tags := map[string]any{}
	for k, v := range b.tag.Tags("waf") {
		tags[k] = *v
	}
	name := compose.Name(b.req.XR, "waf")
	b.out.Add("waf", &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": wafv2.CRDGroupVersion.String(),
		"kind":       wafv2.WebACL_Kind,
		"metadata":   map[string]any{"labels": toAny(compose.Labels(b.req.XR, "waf", nil))},
		"spec": map[string]any{"forProvider": map[string]any{
			"region":           b.region,
			"name":             name,
			"description":      "Managed rules and a per-IP rate limit in front of " + name,
			"scope":            "REGIONAL",
			"defaultAction":    map[string]any{"allow": map[string]any{}},
			"ruleJson":         b.rules(),
			"visibilityConfig": map[string]any{"cloudwatchMetricsEnabled": true, "metricName": name, "sampledRequestsEnabled": true},
			"tags":             tags,
		}},
	}})
	b.out.Add("waf-logging", &wafv2.WebACLLoggingConfiguration{
		ObjectMeta: b.meta("waf-logging"),
		Spec: wafv2.WebACLLoggingConfigurationSpec{ForProvider: wafv2.WebACLLoggingConfigurationParameters{
			Region:                b.regionPtr(),
			ResourceArnSelector:   ref("waf"),
			LogDestinationConfigs: []*string{compose.Ptr(b.spec.WAF.FirehoseARN)},
		}},
	})
	if arn := b.req.AtProvider("alb", "arn"); arn != "" {
		b.out.Add("waf-alb", &wafv2.WebACLAssociation{
			ObjectMeta: b.meta("waf-alb"),
			Spec: wafv2.WebACLAssociationSpec{ForProvider: wafv2.WebACLAssociationParameters{
				Region: b.regionPtr(), ResourceArn: compose.Ptr(arn), WebACLArnSelector: ref("waf"),
			}},
		})
	} else {
		b.out.Defer("waf-alb", "the ARN of alb")
	}
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
