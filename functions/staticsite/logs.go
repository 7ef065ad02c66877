package staticsite

import (
	"encoding/json"
	"fmt"

	cloudcontrol "github.com/upbound/provider-aws/v2/apis/namespaced/cloudcontrol/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// logsRegion is where CloudFront's log delivery is configured: CloudFront
// is global and its CloudWatch vended-log sources live in us-east-1.
const logsRegion = "us-east-1"

// accessLogs delivers the distribution's access logs to the lake with
// CloudFront standard logging v2 (CloudWatch vended logs: a delivery
// source, an S3 delivery destination and the delivery between them).
// Legacy logging cannot: it writes with an ACL grant and the lake's raw
// bucket has ACLs disabled (BucketOwnerEnforced), so CloudFront refuses it.
// provider-aws v2.5.0 has no kinds for the three, so they are Cloud Control
// resources (AWS::Logs::Delivery*). Keys are <prefix><distribution id>/
// yyyy/MM/dd/HH/..., under the prefix the lake's bucket policy admits.
func (b *builder) accessLogs() error {
	dist := b.req.AtProvider("distribution", "arn")
	if dist == "" {
		b.out.Defer("access log delivery", "the ARN of distribution") // the source names the distribution
		return nil
	}
	name := compose.ShortName(b.req.XR, "logs", 60) // delivery names: at most 60 characters
	if err := b.cloudControl("logs-source", "AWS::Logs::DeliverySource", map[string]any{
		"Name": name, "ResourceArn": dist, "LogType": "ACCESS_LOGS",
	}); err != nil {
		return err
	}
	if err := b.cloudControl("logs-destination", "AWS::Logs::DeliveryDestination", map[string]any{
		"Name": name, "DestinationResourceArn": "arn:aws:s3:::" + b.spec.AccessLogs.Bucket, "OutputFormat": "w3c",
	}); err != nil {
		return err
	}
	dest := b.destinationARN()
	if dest == "" || b.req.Observed["logs-source"].Resource == nil {
		b.out.Defer("logs-delivery", "logs-source and logs-destination to exist") // the delivery pairs the two
		return nil
	}
	return b.cloudControl("logs-delivery", "AWS::Logs::Delivery", map[string]any{
		"DeliverySourceName": name, "DeliveryDestinationArn": dest,
		"S3SuffixPath": b.spec.AccessLogs.Prefix + "{DistributionId}/{yyyy}/{MM}/{dd}/{HH}", "S3EnableHiveCompatiblePath": false,
	})
}

func (b *builder) cloudControl(name, typ string, state map[string]any) error {
	j, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("cannot encode %s: %w", typ, err)
	}
	b.out.Add(name, &cloudcontrol.Resource{
		ObjectMeta: b.meta(name),
		Spec: cloudcontrol.ResourceSpec{ForProvider: cloudcontrol.ResourceParameters{
			Region: compose.Ptr(logsRegion), TypeName: compose.Ptr(typ), DesiredState: compose.Ptr(string(j)),
		}},
	})
	return nil
}

// destinationARN is the delivery destination's ARN from the properties
// Cloud Control reports, or "" until it exists.
func (b *builder) destinationARN() string {
	props := b.req.AtProvider("logs-destination", "properties")
	if props == "" {
		return ""
	}
	var p struct{ Arn string }
	if json.Unmarshal([]byte(props), &p) != nil {
		return ""
	}
	return p.Arn
}
