# RDS: Multi-AZ, encrypted, never publicly accessible, and in prod at least
# a week of backups.
package unsilo.database

import data.unsilo.lib
import rego.v1

required := {
	"multiAz": "a zone outage takes the database down",
	"storageEncrypted": "data at rest is readable from snapshots and disks",
}

deny contains v if {
	r := input.resource
	r.kind == "Instance"
	startswith(r.apiVersion, "rds.")
	some field, why in required
	object.get(lib.for_provider(r), field, false) != true
	v := {
		"rule": "rds-multi-az-encrypted",
		"field": sprintf("spec.forProvider.%s", [field]),
		"msg": sprintf("%s is not true: %s", [field, why]),
		"fix": sprintf("set %s: true", [field]),
	}
}

deny contains v if {
	r := input.resource
	r.kind == "Instance"
	startswith(r.apiVersion, "rds.")
	object.get(lib.for_provider(r), "publiclyAccessible", false) != false
	v := {
		"rule": "rds-not-public",
		"field": "spec.forProvider.publiclyAccessible",
		"msg": "the database is publicly accessible",
		"fix": "set publiclyAccessible: false; reach it from the application's security group only",
	}
}

deny contains v if {
	r := input.resource
	r.kind == "Instance"
	startswith(r.apiVersion, "rds.")
	lib.environment == "prod"
	days := object.get(lib.for_provider(r), "backupRetentionPeriod", 0)
	days < 7
	v := {
		"rule": "rds-prod-backups",
		"field": "spec.forProvider.backupRetentionPeriod",
		"msg": sprintf("prod keeps %v days of backups", [days]),
		"fix": "keep at least 7 days of backups in prod",
	}
}

deny contains v if {
	r := input.resource
	r.kind == "Instance"
	startswith(r.apiVersion, "rds.")
	class := lib.for_provider(r).instanceClass
	not class in lib.allowed_db_classes[lib.environment]
	v := {
		"rule": "db-class-allowlist",
		"field": "spec.forProvider.instanceClass",
		"msg": sprintf("%s is not allowed in %s", [class, lib.environment]),
		"fix": sprintf("use one of %v, or ask the platform team to extend policies/lib.rego", [sort(lib.allowed_db_classes[lib.environment])]),
	}
}
