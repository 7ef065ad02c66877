package webportal

import (
	rds "github.com/upbound/provider-aws/v2/apis/namespaced/rds/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// database composes RDS for MySQL, always Multi-AZ and encrypted, in the
// Network's private subnets. RDS generates the master password and keeps it
// in Secrets Manager: it is never in git or in a Kubernetes Secret.
func (b *builder) database() {
	b.out.Add("db-subnet-group", &rds.SubnetGroup{
		ObjectMeta: b.meta("db-subnet-group"),
		Spec: rds.SubnetGroupSpec{ForProvider: rds.SubnetGroupParameters{
			Region:           b.regionPtr(),
			Description:      compose.Ptr("Private subnets of network " + b.spec.NetworkRef.Name),
			SubnetIDSelector: b.subnets("private"),
			Tags:             b.tag.Tags("db-subnet-group"),
		}},
	})
	db := b.spec.Database
	prod := b.spec.Environment == "prod"
	p := rds.InstanceParameters{
		Region:                       b.regionPtr(),
		Engine:                       compose.Ptr("mysql"),
		EngineVersion:                compose.Ptr(db.EngineVersion),
		InstanceClass:                compose.Ptr(db.InstanceClass),
		AllocatedStorage:             compose.Ptr(float64(db.AllocatedStorageGiB)),
		MaxAllocatedStorage:          compose.Ptr(float64(db.MaxStorageGiB)),
		StorageType:                  compose.Ptr("gp3"),
		StorageEncrypted:             compose.Ptr(true),
		MultiAz:                      compose.Ptr(true),
		PubliclyAccessible:           compose.Ptr(false),
		DBSubnetGroupNameSelector:    ref("db-subnet-group"),
		VPCSecurityGroupIDSelector:   ref(sgDB),
		DBName:                       compose.Ptr(db.Name),
		Username:                     compose.Ptr(db.Username),
		ManageMasterUserPassword:     compose.Ptr(true),
		BackupRetentionPeriod:        compose.Ptr(float64(db.BackupRetentionDays)),
		DeletionProtection:           compose.Ptr(prod),
		SkipFinalSnapshot:            compose.Ptr(!prod),
		CopyTagsToSnapshot:           compose.Ptr(true),
		AutoMinorVersionUpgrade:      compose.Ptr(true),
		EnabledCloudwatchLogsExports: []*string{compose.Ptr("error"), compose.Ptr("slowquery")},
		Tags:                         b.tag.Tags("database"),
	}
	if prod {
		p.FinalSnapshotIdentifier = compose.Ptr(compose.Name(b.req.XR, "final"))
	}
	b.out.Add("database", &rds.Instance{ObjectMeta: b.meta("database"), Spec: rds.InstanceSpec{ForProvider: p}})
}
