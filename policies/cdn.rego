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

deny contains v if {
	r := input.resource
	r.kind == "Distribution"
	not lib.for_provider(r).loggingConfig.bucket
	v := {
		"rule": "cloudfront-access-logs",
		"field": "spec.forProvider.loggingConfig.bucket",
		"msg": "CloudFront access logs are off",
		"fix": "set loggingConfig.bucket to the lake's raw bucket (<bucket>.s3.amazonaws.com) and a prefix",
	}
}

behaviors(fp) := bs if {
	ordered := {sprintf("orderedCacheBehavior[%d]", [i]): b | some i, b in object.get(fp, "orderedCacheBehavior", [])}
	bs := object.union(ordered, {"defaultCacheBehavior": object.get(fp, "defaultCacheBehavior", {})})
}
