# CloudFront serves HTTPS only, reads S3 through Origin Access Control (not
# the legacy origin access identity), and writes access logs to the lake.
package unsilo.cdn

import data.unsilo.lib
import rego.v1

https_policies := {"redirect-to-https", "https-only"}

deny contains v if {
	r := input.resource
	r.kind == "Distribution"
	some path, b in behaviors(lib.for_provider(r))
	not b.viewerProtocolPolicy in https_policies
	v := {
		"rule": "cloudfront-https-only",
		"field": sprintf("spec.forProvider.%s.viewerProtocolPolicy", [path]),
		"msg": sprintf("viewers may use plain HTTP (%v)", [object.get(b, "viewerProtocolPolicy", "unset")]),
		"fix": "set viewerProtocolPolicy to redirect-to-https",
	}
}

deny contains v if {
	r := input.resource
	r.kind == "Distribution"
	some i, o in object.get(lib.for_provider(r), "origin", [])
	contains(o.domainName, ".s3.")
	not o.originAccessControlId
	not o.originAccessControlIdSelector
	not o.originAccessControlIdRef
	v := {
		"rule": "cloudfront-oac",
		"field": sprintf("spec.forProvider.origin[%d]", [i]),
		"msg": "an S3 origin is read without Origin Access Control",
		"fix": "compose an OriginAccessControl and point originAccessControlIdSelector at it; do not use origin access identities",
	}
}

# Access logs go to the lake through standard logging v2 (a CloudWatch
# vended-log delivery source for the distribution, composed beside it).
deny contains v if {
	r := input.resource
	r.kind == "Distribution"
	not v2_delivery
	v := {
		"rule": "cloudfront-access-logs",
		"field": "spec.forProvider",
		"msg": "CloudFront access logs are off: no standard logging v2 delivery source (AWS::Logs::DeliverySource, LogType ACCESS_LOGS) is composed for the distribution",
		"fix": "compose the delivery source, S3 delivery destination and delivery in us-east-1 (functions/staticsite/logs.go)",
	}
}

# Legacy logging writes with an ACL grant: the lake's buckets have ACLs
# disabled (BucketOwnerEnforced), and CloudFront refuses such a bucket.
deny contains v if {
	r := input.resource
	r.kind == "Distribution"
	lib.for_provider(r).loggingConfig
	v := {
		"rule": "cloudfront-no-legacy-logs",
		"field": "spec.forProvider.loggingConfig",
		"msg": "legacy standard logging needs bucket ACLs, which the lake's buckets disable; CloudFront refuses the distribution",
		"fix": "remove loggingConfig and deliver with standard logging v2",
	}
}

v2_delivery if {
	some c in input.composed
	c.kind == "Resource"
	startswith(c.apiVersion, "cloudcontrol.")
	c.resource.spec.forProvider.typeName == "AWS::Logs::DeliverySource"
	json.unmarshal(c.resource.spec.forProvider.desiredState).LogType == "ACCESS_LOGS"
}

behaviors(fp) := bs if {
	ordered := {sprintf("orderedCacheBehavior[%d]", [i]): b | some i, b in object.get(fp, "orderedCacheBehavior", [])}
	bs := object.union(ordered, {"defaultCacheBehavior": object.get(fp, "defaultCacheBehavior", {})})
}
