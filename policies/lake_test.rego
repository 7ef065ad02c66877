package unsilo.lake_test

import data.unsilo.lake
import rego.v1

key := "arn:aws:kms:ap-northeast-2:123456789012:key/k"

lake_xr := {"kind": "DataLake", "spec": {"environment": "prod"}}

rules(input_) := {v.rule | some v in lake.deny with input as input_}

sse(component, algo) := {
	"apiVersion": "s3.aws.m.upbound.io/v1beta1", "kind": "BucketServerSideEncryptionConfiguration",
	"metadata": {"labels": {"platform.unsilo.dev/component": component}},
	"spec": {"forProvider": {"rule": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": algo}, "bucketKeyEnabled": true}]}},
}

test_lake_bucket_kms_pass if {
	count(rules({"resource": sse("raw-bucket-encryption", "aws:kms"), "xr": lake_xr, "source": "composed"})) == 0
	count(rules({"resource": sse("alb-bucket-encryption", "AES256"), "xr": lake_xr, "source": "composed"})) == 0
	# Other APIs' buckets (a StaticSite served by CloudFront) may use SSE-S3.
	count(rules({"resource": sse("bucket-encryption", "AES256"), "xr": {"kind": "StaticSite"}, "source": "composed"})) == 0
}

test_lake_bucket_kms_fail if {
	"lake-bucket-kms" in rules({"resource": sse("raw-bucket-encryption", "AES256"), "xr": lake_xr, "source": "composed"})
	"lake-bucket-kms" in rules({"resource": sse("curated-bucket-encryption", "aws:kms:dsse-x"), "xr": lake_xr, "source": "composed"})
	"lake-bucket-kms" in rules({"resource": sse("alb-bucket-encryption", "none"), "xr": lake_xr, "source": "composed"})
}

stream(fp) := {"apiVersion": "firehose.aws.m.upbound.io/v1beta1", "kind": "DeliveryStream", "spec": {"forProvider": fp}}

good_stream := {
	"name": "aws-waf-logs-x", "destination": "extended_s3",
	"serverSideEncryption": {"enabled": true, "keyType": "CUSTOMER_MANAGED_CMK", "keyArn": key},
	"extendedS3Configuration": {"kmsKeyArn": key},
}

test_firehose_encrypted_pass if {
	count(rules({"resource": stream(good_stream)})) == 0
}

test_firehose_encrypted_fail if {
	"firehose-encrypted" in rules({"resource": stream(object.remove(good_stream, ["serverSideEncryption"]))})
	"firehose-encrypted" in rules({"resource": stream(object.union(good_stream, {"serverSideEncryption": {"enabled": true, "keyType": "AWS_OWNED_CMK"}}))})
	"firehose-encrypted" in rules({"resource": stream(object.union(object.remove(good_stream, ["extendedS3Configuration"]), {"extendedS3Configuration": {"prefix": "waf/"}}))})
}

trail(fp) := {"apiVersion": "cloudtrail.aws.m.upbound.io/v1beta1", "kind": "Trail", "spec": {"forProvider": fp}}

test_cloudtrail_log_validation_pass if {
	count(rules({"resource": trail({"enableLogFileValidation": true, "kmsKeyIdSelector": {"matchControllerRef": true}})})) == 0
	count(rules({"resource": trail({"enableLogFileValidation": true, "kmsKeyId": key})})) == 0
}

test_cloudtrail_log_validation_fail if {
	"cloudtrail-log-validation" in rules({"resource": trail({"kmsKeyId": key})})
	"cloudtrail-log-validation" in rules({"resource": trail({"enableLogFileValidation": false, "kmsKeyId": key})})
	"cloudtrail-log-validation" in rules({"resource": trail({"enableLogFileValidation": true})})
}

workgroup(c) := {"apiVersion": "athena.aws.m.upbound.io/v1beta1", "kind": "Workgroup", "spec": {"forProvider": {"configuration": c}}}

good_wg := {
	"enforceWorkgroupConfiguration": true,
	"resultConfiguration": {"outputLocation": "s3://lake/athena-results/", "encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKeyArnSelector": {"matchControllerRef": true}}},
}

test_athena_workgroup_encrypted_enforced_pass if {
	count(rules({"resource": workgroup(good_wg)})) == 0
}

test_athena_workgroup_encrypted_enforced_fail if {
	"athena-workgroup-encrypted-enforced" in rules({"resource": workgroup(object.union(good_wg, {"enforceWorkgroupConfiguration": false}))})
	"athena-workgroup-encrypted-enforced" in rules({"resource": workgroup({"enforceWorkgroupConfiguration": true, "resultConfiguration": {"encryptionConfiguration": {"encryptionOption": "SSE_S3", "kmsKeyArn": key}}})})
	"athena-workgroup-encrypted-enforced" in rules({"resource": workgroup({"enforceWorkgroupConfiguration": true, "resultConfiguration": {"encryptionConfiguration": {"encryptionOption": "SSE_KMS"}}})})
	"athena-workgroup-encrypted-enforced" in rules({"resource": workgroup({})})
}
