package unsilo.cdn_test

import data.unsilo.cdn
import rego.v1

dist(policy, origin, logs) := {"apiVersion": "cloudfront.aws.m.upbound.io/v1beta1", "kind": "Distribution", "spec": {"forProvider": object.union(
	{"defaultCacheBehavior": {"viewerProtocolPolicy": policy}, "origin": [origin]},
	logs,
)}}

oac_origin := {"domainName": "site.s3.ap-northeast-2.amazonaws.com", "originAccessControlIdSelector": {"matchControllerRef": true}}

oai_origin := {"domainName": "site.s3.ap-northeast-2.amazonaws.com", "s3OriginConfig": {"originAccessIdentity": "origin-access-identity/cloudfront/E1"}}

logs := {}

source := {"apiVersion": "cloudcontrol.aws.m.upbound.io/v1beta1", "kind": "Resource", "name": "logs-source", "resource": {"spec": {"forProvider": {
	"typeName": "AWS::Logs::DeliverySource",
	"desiredState": "{\"LogType\":\"ACCESS_LOGS\",\"Name\":\"x\"}",
}}}}

test_cloudfront_https_only_pass if {
	count(cdn.deny) == 0 with input as {"composed": [source], "resource": dist("redirect-to-https", oac_origin, logs)}
}

test_cloudfront_https_only_fail if {
	some v in cdn.deny with input as {"composed": [source], "resource": dist("allow-all", oac_origin, logs)}
	v.rule == "cloudfront-https-only"
	v.field == "spec.forProvider.defaultCacheBehavior.viewerProtocolPolicy"
}

test_cloudfront_oac_pass if {
	count(cdn.deny) == 0 with input as {"composed": [source], "resource": dist("https-only", oac_origin, logs)}
}

test_cloudfront_oac_fail if {
	some v in cdn.deny with input as {"composed": [source], "resource": dist("https-only", oai_origin, logs)}
	v.rule == "cloudfront-oac"
}

test_cloudfront_access_logs_pass if {
	count(cdn.deny) == 0 with input as {"composed": [source], "resource": dist("https-only", oac_origin, logs)}
}

test_cloudfront_access_logs_fail if {
	some v in cdn.deny with input as {"composed": [], "resource": dist("https-only", oac_origin, {})}
	v.rule == "cloudfront-access-logs"
}

test_cloudfront_no_legacy_logs_pass if {
	count(cdn.deny) == 0 with input as {"composed": [source], "resource": dist("https-only", oac_origin, {})}
}

test_cloudfront_no_legacy_logs_fail if {
	some v in cdn.deny with input as {"composed": [source], "resource": dist("https-only", oac_origin, {"loggingConfig": {"bucket": "lake.s3.amazonaws.com"}})}
	v.rule == "cloudfront-no-legacy-logs"
}
