# The platform's queues: encrypted at rest, with a key the platform manages
# where S3 sends event notifications to them; a failing message ends in a
# dead-letter queue instead of being retried forever or lost; and only the
# platform's buckets may send (S3 user guide, "Granting permissions to publish event
# notification messages to a destination": aws:SourceArn and
# aws:SourceAccount).
package unsilo.lake

import data.unsilo.lib
import rego.v1

deny contains v if {
	r := input.resource
	r.kind == "Queue"
	startswith(r.apiVersion, "sqs.")
	fp := lib.for_provider(r)
	not fp.kmsMasterKeyId
	not fp.sqsManagedSseEnabled == true
	v := {
		"rule": "queue-encrypted",
		"field": "spec.forProvider.sqsManagedSseEnabled",
		"msg": "the queue is not encrypted at rest",
		"fix": "set kmsMasterKeyId to a customer managed key, or sqsManagedSseEnabled: true",
	}
}

# S3 can send only to a queue whose key policy lets it use the key: not the
# AWS managed aws/sqs key, and not SQS-managed SSE for an SSE-KMS bucket's
# events. A queue some composed bucket notification targets needs a CMK.
deny contains v if {
	r := input.resource
	r.kind == "Queue"
	startswith(r.apiVersion, "sqs.")
	notified(lib.for_provider(r).name)
	not lib.for_provider(r).kmsMasterKeyId
	v := {
		"rule": "queue-kms",
		"field": "spec.forProvider.kmsMasterKeyId",
		"msg": "S3 sends this queue its event notifications, but it is not encrypted with a customer managed KMS key",
		"fix": "set kmsMasterKeyId to the lake key's ARN (S3 cannot send to a queue under the AWS managed aws/sqs key)",
	}
}

notified(name) if {
	some c in input.composed
	c.resource.kind == "BucketNotification"
	some q in object.get(lib.for_provider(c.resource), "queue", [])
	endswith(q.queueArn, concat("", [":", name]))
}

deny contains v if {
	r := input.resource
	r.kind == "Queue"
	startswith(r.apiVersion, "sqs.")
	fp := lib.for_provider(r)
	not fp.redrivePolicy
	not fp.redriveAllowPolicy # a dead-letter queue itself
	not redriven(r)
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

# A QueueRedrivePolicy sibling names the queue by its component label.
redriven(q) if {
	some c in input.composed
	c.resource.kind == "QueueRedrivePolicy"
	sel := lib.for_provider(c.resource).queueUrlSelector.matchLabels[lib.component_label]
	sel == q.metadata.labels[lib.component_label]
}

service_scoped(st) if {
	st.Principal.Service
	st.Condition.ArnLike["aws:SourceArn"]
	st.Condition.StringEquals["aws:SourceAccount"]
}
