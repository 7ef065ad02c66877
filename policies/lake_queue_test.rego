package unsilo.lake_test

import data.unsilo.lake
import rego.v1

queue(fp) := {"apiVersion": "sqs.aws.m.upbound.io/v1beta1", "kind": "Queue", "spec": {"forProvider": fp}}

qpolicy(statements) := {"apiVersion": "sqs.aws.m.upbound.io/v1beta1", "kind": "QueuePolicy",
	"spec": {"forProvider": {"policy": json.marshal({"Version": "2012-10-17", "Statement": statements})}}}

s3_sends := {"Sid": "S3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
	"Condition": {"ArnLike": {"aws:SourceArn": ["arn:aws:s3:::raw"]}, "StringEquals": {"aws:SourceAccount": "123456789012"}}}

notification(queue_name) := {"name": "n", "resource": {"apiVersion": "s3.aws.m.upbound.io/v1beta1", "kind": "BucketNotification",
	"spec": {"forProvider": {"queue": [{"queueArn": concat("", ["arn:aws:sqs:ap-northeast-2:123456789012:", queue_name])}]}}}}

test_queue_encrypted_pass if {
	count(rules({"resource": queue({"sqsManagedSseEnabled": true, "redrivePolicy": "{}"})})) == 0
	count(rules({"resource": queue({"kmsMasterKeyId": key, "redrivePolicy": "{}"})})) == 0
}

test_queue_encrypted_fail if {
	"queue-encrypted" in rules({"resource": queue({"redrivePolicy": "{}"})})
	"queue-encrypted" in rules({"resource": queue({"sqsManagedSseEnabled": false, "redrivePolicy": "{}"})})
}

test_queue_kms_pass if {
	count(rules({"resource": queue({"name": "ingest", "kmsMasterKeyId": key, "redrivePolicy": "{}"}), "composed": [notification("ingest")]})) == 0
	# SQS-managed SSE is enough for a queue S3 does not send to.
	count(rules({"resource": queue({"name": "outbox", "sqsManagedSseEnabled": true, "redrivePolicy": "{}"}), "composed": [notification("ingest")]})) == 0
}

test_queue_kms_fail if {
	"queue-kms" in rules({"resource": queue({"name": "ingest", "sqsManagedSseEnabled": true, "redrivePolicy": "{}"}), "composed": [notification("ingest")]})
}

test_queue_dead_letter_pass if {
	count(rules({"resource": queue({"kmsMasterKeyId": key, "redrivePolicy": "{}"})})) == 0
	count(rules({"resource": queue({"kmsMasterKeyId": key, "redriveAllowPolicy": "{}"})})) == 0 # the DLQ itself
}

test_queue_dead_letter_redrive_resource_pass if {
	q := object.union(queue({"kmsMasterKeyId": key}), {"metadata": {"labels": {"platform.unsilo.dev/component": "outbox"}}})
	redrive := {"name": "r", "resource": {"apiVersion": "sqs.aws.m.upbound.io/v1beta1", "kind": "QueueRedrivePolicy",
		"spec": {"forProvider": {"queueUrlSelector": {"matchLabels": {"platform.unsilo.dev/component": "outbox"}}}}}}
	count(rules({"resource": q, "composed": [redrive]})) == 0
}

test_queue_dead_letter_fail if {
	"queue-dead-letter" in rules({"resource": queue({"kmsMasterKeyId": key})})
}

test_queue_policy_scoped_pass if {
	count(rules({"resource": qpolicy([s3_sends, {"Effect": "Deny", "Principal": "*", "Action": "sqs:*"}])})) == 0
}

test_queue_policy_scoped_fail if {
	"queue-policy-scoped" in rules({"resource": qpolicy([object.remove(s3_sends, ["Condition"])])})
	"queue-policy-scoped" in rules({"resource": qpolicy([object.union(s3_sends, {"Principal": "*"})])})
}
