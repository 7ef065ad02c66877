package webportal

import (
	"encoding/base64"
	"encoding/json"

	autoscaling "github.com/upbound/provider-aws/v2/apis/namespaced/autoscaling/v1beta1"
	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// ssmPolicy is what lets Session Manager reach an instance: the only way
// in, there is no SSH key and no public address.
const ssmPolicy = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"

func (b *builder) compute() {
	assume, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect": "Allow", "Action": "sts:AssumeRole",
			"Principal": map[string]any{"Service": "ec2.amazonaws.com"},
		}},
	})
	b.out.Add("instance-role", &iam.Role{
		ObjectMeta: b.meta("instance-role"),
		Spec: iam.RoleSpec{ForProvider: iam.RoleParameters{
			AssumeRolePolicy: compose.Ptr(string(assume)),
			Description:      compose.Ptr("Application instances of " + compose.Name(b.req.XR, "portal")),
			Tags:             b.tag.Tags("instance-role"),
		}},
	})
	b.out.Add("instance-role-ssm", &iam.RolePolicyAttachment{
		ObjectMeta: b.meta("instance-role-ssm"),
		Spec: iam.RolePolicyAttachmentSpec{ForProvider: iam.RolePolicyAttachmentParameters{
			PolicyArn: compose.Ptr(ssmPolicy), RoleSelector: ref("instance-role"),
		}},
	})
	b.databaseSecretAccess()
	b.out.Add("instance-profile", &iam.InstanceProfile{
		ObjectMeta: b.meta("instance-profile"),
		Spec: iam.InstanceProfileSpec{ForProvider: iam.InstanceProfileParameters{
			RoleSelector: ref("instance-role"), Tags: b.tag.Tags("instance-profile"),
		}},
	})

	in := b.spec.Instances
	lt := &ec2.LaunchTemplate{
		ObjectMeta: b.meta("launch-template"),
		Spec: ec2.LaunchTemplateSpec{ForProvider: ec2.LaunchTemplateParameters_2{
			Region:                     b.regionPtr(),
			ImageID:                    compose.Ptr(in.AMI),
			InstanceType:               compose.Ptr(in.Type),
			UpdateDefaultVersion:       compose.Ptr(true),
			IAMInstanceProfile:         &ec2.IAMInstanceProfileParameters{ArnSelector: ref("instance-profile")},
			VPCSecurityGroupIDSelector: ref(sgApp),
			MetadataOptions: &ec2.LaunchTemplateMetadataOptionsParameters{
				HTTPEndpoint: compose.Ptr("enabled"), HTTPTokens: compose.Ptr("required"), // IMDSv2 only
				HTTPPutResponseHopLimit: compose.Ptr(1.0),
			},
			BlockDeviceMappings: []ec2.BlockDeviceMappingsParameters{{
				DeviceName: compose.Ptr("/dev/xvda"),
				EBS: &ec2.EBSParameters{
					Encrypted: compose.Ptr("true"), VolumeType: compose.Ptr("gp3"),
					VolumeSize: compose.Ptr(float64(in.RootVolumeGiB)), DeleteOnTermination: compose.Ptr("true"),
				},
			}},
			Monitoring: &ec2.MonitoringParameters{Enabled: compose.Ptr(true)},
			Tags:       b.tag.Tags("launch-template"),
		}},
	}
	if in.UserData != "" {
		lt.Spec.ForProvider.UserData = compose.Ptr(base64.StdEncoding.EncodeToString([]byte(in.UserData)))
	}
	b.out.Add("launch-template", lt)

	tags := make([]autoscaling.TagParameters, 0)
	for _, k := range compose.SortedKeys(b.tag.Tags("instance")) {
		v := b.tag.Tags("instance")[k]
		tags = append(tags, autoscaling.TagParameters{Key: compose.Ptr(k), Value: v, PropagateAtLaunch: compose.Ptr(true)})
	}
	// The group launches from the template's current version number: "$Latest"
	// is what AWS stores but never a change the provider sees, so a new
	// template version would never start the instance refresh below.
	version := b.req.AtProviderNumber("launch-template", "latestVersion")
	if version == "" {
		b.out.Defer("asg (and what hangs off it)", "the latestVersion of launch-template")
		return
	}
	b.out.Add("asg", &autoscaling.AutoscalingGroup{
		ObjectMeta: b.meta("asg"),
		Spec: autoscaling.AutoscalingGroupSpec{
			ForProvider: autoscaling.AutoscalingGroupParameters{
				Region:                    b.regionPtr(),
				MinSize:                   compose.Ptr(float64(in.Min)),
				MaxSize:                   compose.Ptr(float64(in.Max)),
				VPCZoneIdentifierSelector: b.subnets("private"),
				HealthCheckType:           compose.Ptr("ELB"),
				HealthCheckGracePeriod:    compose.Ptr(120.0),
				LaunchTemplate: &autoscaling.LaunchTemplateParameters{
					IDSelector: ref("launch-template"), Version: compose.Ptr(version),
				},
				InstanceRefresh: &autoscaling.InstanceRefreshParameters{Strategy: compose.Ptr("Rolling")},
				Tag:             tags,
			},
			// Target tracking owns the desired capacity once the group
			// runs: set at creation only, so a poll never undoes scaling.
			InitProvider: autoscaling.AutoscalingGroupInitParameters{DesiredCapacity: compose.Ptr(float64(in.Desired))},
		},
	})
	b.out.Add("asg-target-group", &autoscaling.Attachment{
		ObjectMeta: b.meta("asg-target-group"),
		Spec: autoscaling.AttachmentSpec{ForProvider: autoscaling.AttachmentParameters{
			Region: b.regionPtr(), AutoscalingGroupNameSelector: ref("asg"), LBTargetGroupArnSelector: ref("target-group"),
		}},
	})
	b.out.Add("asg-cpu-target", &autoscaling.Policy{
		ObjectMeta: b.meta("asg-cpu-target"),
		Spec: autoscaling.PolicySpec{ForProvider: autoscaling.PolicyParameters{
			Region:                       b.regionPtr(),
			AutoscalingGroupNameSelector: ref("asg"),
			PolicyType:                   compose.Ptr("TargetTrackingScaling"),
			TargetTrackingConfiguration: &autoscaling.TargetTrackingConfigurationParameters{
				TargetValue: compose.Ptr(float64(in.TargetCPU)),
				PredefinedMetricSpecification: &autoscaling.PredefinedMetricSpecificationParameters{
					PredefinedMetricType: compose.Ptr("ASGAverageCPUUtilization"),
				},
			},
		}},
	})
}

// databaseSecretAccess lets the instances read the master user secret RDS
// created and rotates (ManageMasterUserPassword), once RDS reports its ARN:
// the application reads its credentials at start, never from git.
func (b *builder) databaseSecretAccess() {
	arn := b.databaseSecretARN()
	if arn == "" {
		b.out.Defer("instance-role-db-secret", "the master user secret of database")
		return
	}
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{{
		"Sid": "ReadDatabaseSecret", "Effect": "Allow",
		"Action": []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, "Resource": arn,
	}}})
	b.out.Add("instance-role-db-secret", &iam.RolePolicy{
		ObjectMeta: b.meta("instance-role-db-secret"),
		Spec: iam.RolePolicySpec{ForProvider: iam.RolePolicyParameters{
			Policy: compose.Ptr(string(doc)), RoleSelector: ref("instance-role"),
		}},
	})
}

func (b *builder) databaseSecretARN() string {
	o, ok := b.req.Observed["database"]
	if !ok || o.Resource == nil {
		return ""
	}
	v, err := o.Resource.GetString("status.atProvider.masterUserSecret[0].secretArn")
	if err != nil {
		return ""
	}
	return v
}
