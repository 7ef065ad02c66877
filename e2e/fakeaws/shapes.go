package fakeaws

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Account is the AWS account the simulation answers for; the repo's
// examples use it too.
const Account = "123456789012"

// hexID is the 17 lowercase hex digits EC2 ids carry after their prefix.
func hexID(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func upperAlnum(n int) string {
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = a[int(b[i])%len(a)]
	}
	return string(b)
}

func uuid() string {
	h := hexID(32)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ec2Prefixes are the id prefixes EC2 assigns (as in DescribeVpcs & co.).
var ec2Prefixes = map[string]string{
	"VPC": "vpc", "Subnet": "subnet", "InternetGateway": "igw", "NATGateway": "nat", "EIP": "eipalloc",
	"RouteTable": "rtb", "RouteTableAssociation": "rtbassoc", "SecurityGroup": "sg",
	"SecurityGroupIngressRule": "sgr", "SecurityGroupEgressRule": "sgr", "VPCEndpoint": "vpce",
	"FlowLog": "fl", "LaunchTemplate": "lt",
}

// identity is what AWS answers when a resource is created: the id the
// provider keeps as external name, and the computed fields the functions
// and reference resolvers read from status.atProvider.
type identity struct {
	id       string
	computed map[string]any
}

// newIdentity shapes a created resource as AWS would: name is the
// resource's name where AWS lets the caller choose it (metadata.name, as
// the provider's default external name).
func newIdentity(group, kind, name, region string, params map[string]any) identity {
	svc := strings.TrimSuffix(group, ".aws.m.upbound.io")
	arn := func(resource string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", svc, region, Account, resource)
	}
	c := map[string]any{}
	id := name
	switch {
	case svc == "ec2" && ec2Prefixes[kind] != "":
		id = ec2Prefixes[kind] + "-" + hexID(17)
		c["arn"] = arn(strings.ToLower(kind) + "/" + id)
		if kind == "VPC" {
			c["arn"] = arn("vpc/" + id)
			c["defaultSecurityGroupId"] = "sg-" + hexID(17)
			c["mainRouteTableId"] = "rtb-" + hexID(17)
		}
		if kind == "LaunchTemplate" {
			// A new template is version 1; node groups and Auto Scaling
			// groups pin the number the functions read from here.
			c["latestVersion"], c["defaultVersion"] = int64(1), int64(1)
		}
		if kind == "EIP" {
			c["allocationId"] = id
			c["publicIp"] = fmt.Sprintf("3.%d.%d.%d", randByte(), randByte(), randByte())
		}
	case svc == "ec2" && kind == "Route":
		id = fmt.Sprintf("r-%v%d", params["routeTableId"], 1080289494)
	case svc == "ec2" && strings.HasPrefix(kind, "VPCEndpoint"):
		id = "a-vpce-" + hexID(17)
	case svc == "s3":
		// Bucket and its sub-resources are keyed by the bucket name.
		if b, ok := params["bucket"].(string); ok && kind != "Bucket" {
			id = b
		}
		c["arn"] = "arn:aws:s3:::" + id
		if kind == "Bucket" {
			c["bucketDomainName"] = id + ".s3.amazonaws.com"
			c["bucketRegionalDomainName"] = id + ".s3." + region + ".amazonaws.com"
		}
	case svc == "iam":
		path := map[string]string{"Role": "role", "InstanceProfile": "instance-profile", "Policy": "policy"}[kind]
		if path != "" {
			c["arn"] = fmt.Sprintf("arn:aws:iam::%s:%s/%s", Account, path, id)
			c["uniqueId"] = "AROA" + upperAlnum(17)
		}
	case svc == "kms" && kind == "Key":
		id = uuid()
		c["arn"] = arn("key/" + id)
		c["keyId"] = id
	case svc == "cloudfront":
		id = "E" + upperAlnum(13)
		c["arn"] = fmt.Sprintf("arn:aws:cloudfront::%s:%s/%s", Account, strings.ToLower(kind), id)
		if kind == "Distribution" {
			c["domainName"] = "d" + strings.ToLower(upperAlnum(13)) + ".cloudfront.net"
			c["hostedZoneId"] = "Z2FDTNDATAQYW2" // CloudFront's fixed zone
			c["status"] = "Deployed"
		}
	case svc == "elbv2":
		short := map[string]string{"LB": "loadbalancer/app", "LBTargetGroup": "targetgroup", "LBListener": "listener/app"}[kind]
		if short == "" {
			short = strings.ToLower(kind)
		}
		id = arn(fmt.Sprintf("%s/%s/%s", short, trim(name, 32), hexID(16)))
		c["arn"] = id
		if kind == "LB" {
			c["dnsName"] = fmt.Sprintf("%s-%d.%s.elb.amazonaws.com", trim(name, 32), 1000000000+int(randByte())*1000, region)
			c["zoneId"] = "ZWKZPGTI48KDX" // ap-northeast-2's ALB zone
		}
	case svc == "rds" && kind == "Instance":
		host := fmt.Sprintf("%s.c%s.%s.rds.amazonaws.com", name, strings.ToLower(upperAlnum(11)), region)
		c["address"] = host
		c["endpoint"] = host + ":3306"
		c["arn"] = arn("db:" + name)
		c["resourceId"] = "db-" + upperAlnum(26)
		if params["manageMasterUserPassword"] == true {
			// RDS keeps the password in a Secrets Manager secret it names
			// rds!db-<uuid>; Secrets Manager appends six random characters.
			c["masterUserSecret"] = []any{map[string]any{"secretArn": fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!db-%s-%s",
				region, Account, uuid(), upperAlnum(6)), "secretStatus": "active"}}
		}
	case svc == "eks" && kind == "Cluster":
		h := strings.ToUpper(hexID(32))
		c["arn"] = arn("cluster/" + name)
		c["endpoint"] = fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", h, region)
		c["identity"] = []any{map[string]any{"oidc": []any{map[string]any{"issuer": fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", region, h)}}}}
		c["certificateAuthority"] = []any{map[string]any{"data": base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----\nMIIC/simulated\n-----END CERTIFICATE-----\n"))}}
		c["status"] = "ACTIVE"
	case svc == "eks" && kind == "PodIdentityAssociation":
		id = "a-" + strings.ToLower(upperAlnum(17))
		c["associationArn"] = arn("podidentityassociation/" + id)
	case svc == "kendra" && kind == "Index":
		id = uuid()
		c["arn"] = arn("index/" + id)
	case svc == "kendra":
		id = uuid()
		c["arn"] = arn(strings.ToLower(kind) + "/" + id)
	case svc == "firehose":
		c["arn"] = arn("deliverystream/" + name)
		id = c["arn"].(string)
	case svc == "secretsmanager":
		c["arn"] = arn("secret:" + name + "-" + upperAlnum(6))
		id = c["arn"].(string)
	case svc == "wafv2":
		u := uuid()
		c["arn"] = arn("regional/" + strings.ToLower(kind) + "/" + name + "/" + u)
		id = u
	case svc == "cloudcontrol" && kind == "Resource":
		id, c["properties"] = cloudControl(params, region)
	case svc == "athena" && kind == "NamedQuery":
		id = uuid()
	case svc == "glue" && kind == "CatalogDatabase":
		id = Account + ":" + name
		c["arn"] = arn("database/" + name)
	default:
		c["arn"] = arn(strings.ToLower(kind) + "/" + name)
	}
	c["id"] = id
	return identity{id: id, computed: c}
}

func randByte() byte {
	b := make([]byte, 1)
	_, _ = rand.Read(b)
	return b[0]
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// cloudControl answers as Cloud Control's GetResource does: the resource's
// primary identifier and its properties (the desired state and the
// read-only ones, such as the Arn), as the JSON string provider-aws keeps
// in status.atProvider.properties. The CloudWatch Logs delivery types are
// the ones the platform composes; their ARNs are as CloudWatch Logs
// returns them.
func cloudControl(params map[string]any, region string) (string, string) {
	props := map[string]any{}
	if s, ok := params["desiredState"].(string); ok {
		_ = json.Unmarshal([]byte(s), &props) // a malformed state keeps no properties, as AWS would refuse it
	}
	logs := func(kind, id string) string {
		return fmt.Sprintf("arn:aws:logs:%s:%s:%s:%s", region, Account, kind, id)
	}
	name, _ := props["Name"].(string)
	id := name
	switch params["typeName"] {
	case "AWS::Logs::DeliverySource":
		props["Arn"] = logs("delivery-source", name)
	case "AWS::Logs::DeliveryDestination":
		props["Arn"] = logs("delivery-destination", name)
	case "AWS::Logs::Delivery":
		id = upperAlnum(16)
		props["DeliveryId"], props["Arn"] = id, logs("delivery", id)
	}
	b, _ := json.Marshal(props) // a map of JSON values always encodes
	return id, string(b)
}
