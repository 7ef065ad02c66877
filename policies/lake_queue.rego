# The lake's ingest queues: what S3 sends about new log objects is encrypted
# with a key the platform manages, a failing message ends in a dead-letter
# queue instead of being retried forever or lost, and only the platform's
# buckets may send (S3 user guide, "Granting permissions to publish event
# notification messages to a destination": aws:SourceArn and
# aws:SourceAccount).
package unsilo.lake

import data.unsilo.lib
import rego.v1

deny contains v if {
	r := input.resource
	r.kind == "Queue"
	startswith(r.apiVersion, "sqs.")
	not lib.for_provider(r).kmsMasterKeyId
	v := {
		"rule": "queue-kms",
		"field": "spec.forProvider.kmsMasterKeyId",
		"msg": "the queue is not encrypted with a customer managed KMS key",
		"fix": "set kmsMasterKeyId to the lake key's ARN (S3 cannot send to a queue under the AWS managed aws/sqs key)",
	}
}

deny contains v if {
	r := input.resource
	r.kind == "Queue"
	startswith(r.apiVersion, "sqs.")
	fp := lib.for_provider(r)
	not fp.redrivePolicy
	not fp.redriveAllowPolicy # a dead-letter queue itself
	v := {
		"rule": "queue-dead-letter",
		"field": "spec.forProvider.redrivePolicy",
		"msg": "the queue has no dead-letter queue: a message that always fails is retried until it expires, then lost",
		"fix": "set redrivePolicy {deadLetterTargetArn, maxReceiveCount} to a queue whose redriveAllowPolicy names this one",
	}
}

deny contains v if {
	r := input.resource
	r.kind == "QueuePolicy"
	startswith(r.apiVersion, "sqs.")
	some st in json.unmarshal(object.get(lib.for_provider(r), "policy", "{}")).Statement
	st.Effect == "Allow"
	not service_scoped(st)
	v := {
		"rule": "queue-policy-scoped",
		"field": "spec.forProvider.policy",
		"msg": sprintf("queue policy statement %q allows a principal without aws:SourceArn and aws:SourceAccount conditions", [object.get(st, "Sid", "")]),
		"fix": "allow the service principal (s3.amazonaws.com) with ArnLike aws:SourceArn on the buckets and StringEquals aws:SourceAccount",
	}
}

service_scoped(st) if {
	st.Principal.Service
	st.Condition.ArnLike["aws:SourceArn"]
	st.Condition.StringEquals["aws:SourceAccount"]
}
