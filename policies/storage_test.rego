package unsilo.storage_test

import data.unsilo.storage
import rego.v1

pab(x) := {"apiVersion": "s3.aws.m.upbound.io/v1beta1", "kind": "BucketPublicAccessBlock", "spec": {"forProvider": {
	"blockPublicAcls": true, "blockPublicPolicy": x, "ignorePublicAcls": true, "restrictPublicBuckets": true,
}}}

bucket := {"apiVersion": "s3.aws.m.upbound.io/v1beta1", "kind": "Bucket", "spec": {"forProvider": {}}}

all_siblings := [{"kind": "Bucket"}, {"kind": "BucketPublicAccessBlock"}, {"kind": "BucketServerSideEncryptionConfiguration"}]

test_bucket_never_public_pass if {
	count(storage.deny) == 0 with input as {"resource": pab(true), "source": "composed"}
	count(storage.deny) == 0 with input as {"resource": bucket, "source": "composed", "composed": all_siblings}
}

test_bucket_never_public_fail if {
	some v in storage.deny with input as {"resource": pab(false), "source": "composed"}
	v.rule == "bucket-never-public"
	v.field == "spec.forProvider.blockPublicPolicy"
}

test_bucket_never_public_fail_missing_block if {
	some v in storage.deny with input as {"resource": bucket, "source": "composed", "composed": [{"kind": "Bucket"}, {"kind": "BucketServerSideEncryptionConfiguration"}]}
	v.rule == "bucket-never-public"
}

test_bucket_encrypted_pass if {
	count(storage.deny) == 0 with input as {"resource": bucket, "source": "composed", "composed": all_siblings}
}

test_bucket_encrypted_fail if {
	some v in storage.deny with input as {"resource": bucket, "source": "composed", "composed": [{"kind": "Bucket"}, {"kind": "BucketPublicAccessBlock"}]}
	v.rule == "bucket-encrypted"
}
