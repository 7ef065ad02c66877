# Buckets are never public: every bucket the platform composes has a public
# access block with all four switches on, and its encryption configured.
package unsilo.storage

import data.unsilo.lib
import rego.v1

switches := ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]

deny contains v if {
	r := input.resource
	r.kind == "BucketPublicAccessBlock"
	some s in switches
	object.get(lib.for_provider(r), s, false) != true
	v := {
		"rule": "bucket-never-public",
		"field": sprintf("spec.forProvider.%s", [s]),
		"msg": sprintf("the public access block leaves %s off", [s]),
		"fix": "set all four switches to true; serve public content through CloudFront with Origin Access Control",
	}
}

deny contains v if {
	r := input.resource
	r.kind == "Bucket"
	input.source == "composed"
	not sibling("BucketPublicAccessBlock")
	v := {
		"rule": "bucket-never-public",
		"field": "kind",
		"msg": "the bucket is composed without a BucketPublicAccessBlock",
		"fix": "compose an s3 BucketPublicAccessBlock with all four switches on for every bucket",
	}
}

deny contains v if {
	r := input.resource
	r.kind == "Bucket"
	input.source == "composed"
	not sibling("BucketServerSideEncryptionConfiguration")
	v := {
		"rule": "bucket-encrypted",
		"field": "kind",
		"msg": "the bucket is composed without a server-side encryption configuration",
		"fix": "compose an s3 BucketServerSideEncryptionConfiguration (SSE-S3 or SSE-KMS)",
	}
}

sibling(kind) if {
	some c in input.composed
	c.kind == kind
}
