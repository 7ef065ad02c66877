// Package plan turns rendered XRs into what a reviewer reads: per XR, one
// row per AWS resource with the handful of fields that matter (ranges,
// exposure, encryption, targets).
package plan

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/render"
)

// Row is one composed resource.
type Row struct {
	Name    string // composition resource name
	Kind    string
	Access  string // public / private / -
	Region  string
	Details string
}

// XR is the plan of one composite resource.
type XR struct {
	Where string
	ID    string
	Rows  []Row
	Err   string // a render failure instead of rows
}

// Rows summarizes a render.
func Rows(out *render.Output) []Row {
	rows := make([]Row, 0, len(out.Composed))
	for i := range out.Composed {
		cd := &out.Composed[i]
		access := cd.GetLabels()["platform.unsilo.dev/access"]
		if access == "" {
			access = "-"
		}
		region, _, _ := unstructured.NestedString(cd.Object, "spec", "forProvider", "region")
		rows = append(rows, Row{
			Region:  region,
			Name:    cd.GetAnnotations()[render.AnnotationResourceName],
			Kind:    cd.GetKind(),
			Access:  access,
			Details: details(cd),
		})
	}
	sort.Slice(rows, func(i, j int) bool {
		if oi, oj := order(rows[i].Kind), order(rows[j].Kind); oi != oj {
			return oi < oj
		}
		if rows[i].Kind != rows[j].Kind {
			return rows[i].Kind < rows[j].Kind
		}
		return rows[i].Name < rows[j].Name
	})
	return rows
}

// kindOrder lists kinds the way a reviewer reads a network: outside in.
var kindOrder = []string{"VPC", "InternetGateway", "Subnet", "EIP", "NATGateway", "RouteTable", "Route", "RouteTableAssociation", "SecurityGroup", "SecurityGroupIngressRule", "SecurityGroupEgressRule", "VPCEndpoint"}

func order(kind string) int {
	for i, k := range kindOrder {
		if k == kind {
			return i
		}
	}
	return len(kindOrder)
}

// fields are the forProvider fields worth a reviewer's eye, in print order.
var fields = []struct{ key, label string }{
	{"cidrBlock", "cidr"}, {"availabilityZone", "az"}, {"destinationCidrBlock", "dest"},
	{"cidrIpv4", "from"}, {"cidrIpv6", "from6"}, {"fromPort", "port"}, {"ipProtocol", "proto"},
	{"serviceName", "service"}, {"vpcEndpointType", "type"}, {"privateDnsEnabled", "privateDns"},
	{"connectivityType", "connectivity"}, {"domain", "domain"}, {"mapPublicIpOnLaunch", "publicIp"},
	{"logDestination", "to"}, {"trafficType", "traffic"},
	{"engine", "engine"}, {"engineVersion", "version"}, {"instanceClass", "class"}, {"instanceType", "type"},
	{"multiAz", "multiAz"}, {"storageEncrypted", "encrypted"}, {"publiclyAccessible", "public"},
	{"backupRetentionPeriod", "backups"}, {"deletionProtection", "deletionProtection"},
	{"minSize", "min"}, {"maxSize", "max"}, {"desiredCapacity", "desired"},
	{"internal", "internal"}, {"loadBalancerType", "lb"}, {"port", "port"}, {"protocol", "protocol"},
	{"version", "k8s"}, {"edition", "edition"}, {"scope", "scope"}, {"priceClass", "priceClass"},
	{"metadataOptions.httpTokens", "imdsTokens"}, {"accessLogs.enabled", "accessLogs"},
	{"defaultCacheBehavior.viewerProtocolPolicy", "viewer"}, {"loggingConfig.bucket", "logs"},
	{"viewerCertificate.minimumProtocolVersion", "tls"}, {"sslPolicy", "tls"},
	{"targetTrackingConfiguration.targetValue", "target"}, {"policyArn", "policy"},
	{"versioningConfiguration.status", "versioning"}, {"rule.objectOwnership", "ownership"},
	{"blockPublicPolicy", "blockPublic"}, {"addonName", "addon"}, {"namespace", "namespace"},
	{"serviceAccount", "serviceAccount"}, {"instanceTypes", "types"}, {"capacityType", "capacity"},
	{"scalingConfig.minSize", "min"}, {"scalingConfig.maxSize", "max"}, {"principalArn", "principal"},
	{"vpcConfig.endpointPublicAccess", "publicEndpoint"}, {"vpcConfig.publicAccessCidrs", "publicCidrs"},
	{"enabledClusterLogTypes", "logs"}, {"enableKeyRotation", "rotation"},
	{"type", "type"}, {"languageCode", "language"}, {"schedule", "schedule"}, {"userContextPolicy", "acl"},
	{"serverSideEncryptionConfiguration.kmsKeyId", "kms"},
}

// targets name what a selector points at, e.g. a route's gateway.
var targets = []struct{ key, label string }{
	{"gatewayIdSelector", "via"}, {"natGatewayIdSelector", "via"}, {"subnetIdSelector", "subnet"},
	{"routeTableIdSelector", "table"}, {"vpcEndpointIdSelector", "endpoint"}, {"securityGroupIdSelector", "sg"},
	{"allocationIdSelector", "eip"}, {"referencedSecurityGroupIdSelector", "peer"},
	{"targetGroupArnSelector", "tg"}, {"loadBalancerArnSelector", "lb"},
}

func details(cd *unstructured.Unstructured) string {
	fp, _, _ := unstructured.NestedMap(cd.Object, "spec", "forProvider")
	var parts []string
	for _, f := range fields {
		v, ok, _ := unstructured.NestedFieldNoCopy(fp, strings.Split(f.key, ".")...)
		if !ok {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%v", f.label, v))
	}
	for _, t := range targets {
		sel, ok := fp[t.key].(map[string]any)
		if !ok {
			continue
		}
		labels, _ := sel["matchLabels"].(map[string]any)
		if c, ok := labels["platform.unsilo.dev/component"]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", t.label, c))
		}
	}
	return strings.Join(parts, " ")
}

// Write prints one table per XR.
func Write(w io.Writer, plans []XR) error {
	for i, p := range plans {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  %s%s\n", p.ID, p.Where, regions(p.Rows))
		if p.Err != "" {
			fmt.Fprintf(w, "  cannot render: %s\n", p.Err)
			continue
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  RESOURCE\tKIND\tACCESS\tDETAILS")
		for _, r := range p.Rows {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.Name, r.Kind, r.Access, r.Details)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "  %d resources\n", len(p.Rows))
	}
	return nil
}

// regions names the regions of an XR's resources once, in the header.
func regions(rows []Row) string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		if r.Region != "" && !seen[r.Region] {
			seen[r.Region] = true
			out = append(out, r.Region)
		}
	}
	if len(out) == 0 {
		return ""
	}
	sort.Strings(out)
	return "  region " + strings.Join(out, ", ")
}
