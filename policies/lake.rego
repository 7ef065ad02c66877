# The data lake: every log the platform keeps is encrypted with a key it
# manages, at rest in S3, in flight through Firehose, in Athena's results;
# CloudTrail's files can be proven untampered. Bucket never-public and
# encryption-present are storage.rego's; these are stricter, for DataLake.
package unsilo.lake

import data.unsilo.lib
import rego.v1

component(r) := object.get(r, ["metadata", "labels", lib.component_label], "")

# ELB writes access logs only to SSE-S3 buckets (Elastic Load Balancing
# user guide, "Enable access logs"): the DataLake's ALB zone is the one
# bucket allowed AES256.
sse_s3_allowed(r, algo) if {
	component(r) == "alb-bucket-encryption"
	algo == "AES256"
}

deny contains v if {
	r := input.resource
	r.kind == "BucketServerSideEncryptionConfiguration"
	input.xr.kind == "DataLake"
	some rule in object.get(lib.for_provider(r), "rule", [{}])
	algo := object.get(rule, ["applyServerSideEncryptionByDefault", "sseAlgorithm"], "")
	algo != "aws:kms"
	not sse_s3_allowed(r, algo)
	v := {
		"rule": "lake-bucket-kms",
		"field": "spec.forProvider.rule.applyServerSideEncryptionByDefault.sseAlgorithm",
		"msg": sprintf("a lake bucket is encrypted with %q, not the lake's KMS key", [algo]),
		"fix": "use sseAlgorithm aws:kms with kmsMasterKeyIdSelector on the lake key (only the ALB zone may use AES256)",
	}
}

deny contains v if {
	r := input.resource
	r.kind == "DeliveryStream"
	startswith(r.apiVersion, "firehose.")
	fp := lib.for_provider(r)
	not firehose_encrypted(fp)
	v := {
		"rule": "firehose-encrypted",
		"field": "spec.forProvider.serverSideEncryption",
		"msg": "the delivery stream does not encrypt with a customer managed key, in the stream and in S3",
		"fix": "set serverSideEncryption {enabled: true, keyType: CUSTOMER_MANAGED_CMK, keyArn} and extendedS3Configuration.kmsKeyArn",
	}
}

firehose_encrypted(fp) if {
	fp.serverSideEncryption.enabled == true
	fp.serverSideEncryption.keyType == "CUSTOMER_MANAGED_CMK"
	fp.serverSideEncryption.keyArn
	not s3_unencrypted(fp)
}

s3_unencrypted(fp) if {
	s3 := fp.extendedS3Configuration
	not s3.kmsKeyArn
}

deny contains v if {
	r := input.resource
	r.kind == "Trail"
	startswith(r.apiVersion, "cloudtrail.")
	fp := lib.for_provider(r)
	not trail_validated(fp)
	v := {
		"rule": "cloudtrail-log-validation",
		"field": "spec.forProvider.enableLogFileValidation",
		"msg": "the trail's log files are not validated or not encrypted with a KMS key",
		"fix": "set enableLogFileValidation: true and kmsKeyId (or kmsKeyIdSelector) to the lake key",
	}
}

trail_validated(fp) if {
	fp.enableLogFileValidation == true
	trail_key(fp)
}

trail_key(fp) if fp.kmsKeyId

trail_key(fp) if fp.kmsKeyIdSelector

trail_key(fp) if fp.kmsKeyIdRef

deny contains v if {
	r := input.resource
	r.kind == "Workgroup"
	startswith(r.apiVersion, "athena.")
	not workgroup_safe(object.get(lib.for_provider(r), "configuration", {}))
	v := {
		"rule": "athena-workgroup-encrypted-enforced",
		"field": "spec.forProvider.configuration",
		"msg": "the workgroup does not enforce its configuration or does not encrypt query results with KMS",
		"fix": "set configuration.enforceWorkgroupConfiguration: true and resultConfiguration.encryptionConfiguration.encryptionOption SSE_KMS (or CSE_KMS) with a key",
	}
}

workgroup_safe(c) if {
	c.enforceWorkgroupConfiguration == true
	enc := c.resultConfiguration.encryptionConfiguration
	enc.encryptionOption in {"SSE_KMS", "CSE_KMS"}
	workgroup_key(enc)
}

workgroup_key(enc) if enc.kmsKeyArn

workgroup_key(enc) if enc.kmsKeyArnSelector

workgroup_key(enc) if enc.kmsKeyArnRef
