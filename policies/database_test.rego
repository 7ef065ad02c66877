package unsilo.database_test

import data.unsilo.database
import rego.v1

db(overrides) := {"apiVersion": "rds.aws.m.upbound.io/v1beta1", "kind": "Instance", "spec": {"forProvider": object.union(
	{"multiAz": true, "storageEncrypted": true, "publiclyAccessible": false, "backupRetentionPeriod": 14, "instanceClass": "db.m7g.large"},
	overrides,
)}}

prod := {"spec": {"environment": "prod"}}

dev := {"spec": {"environment": "dev"}}

rules(r, xr) := {v.rule | some v in database.deny with input as {"resource": r, "xr": xr, "source": "composed"}}

test_rds_multi_az_encrypted_pass if {
	count(rules(db({}), prod)) == 0
}

test_rds_multi_az_encrypted_fail if {
	"rds-multi-az-encrypted" in rules(db({"multiAz": false}), prod)
	"rds-multi-az-encrypted" in rules(db({"storageEncrypted": false}), prod)
}

test_rds_not_public_pass if {
	not "rds-not-public" in rules(db({}), prod)
}

test_rds_not_public_fail if {
	"rds-not-public" in rules(db({"publiclyAccessible": true}), prod)
}

test_rds_prod_backups_pass if {
	not "rds-prod-backups" in rules(db({"backupRetentionPeriod": 1, "instanceClass": "db.t4g.micro"}), dev)
}

test_rds_prod_backups_fail if {
	"rds-prod-backups" in rules(db({"backupRetentionPeriod": 3}), prod)
}

test_db_class_allowlist_pass if {
	not "db-class-allowlist" in rules(db({"instanceClass": "db.t4g.micro"}), dev)
}

test_db_class_allowlist_fail if {
	"db-class-allowlist" in rules(db({"instanceClass": "db.r7g.xlarge"}), dev)
}
