// Package webportal composes the WebPortal API (the seed's WebB, the shop):
// an ALB in a Network's public subnets, an Auto Scaling group of instances
// in its private subnets, RDS for MySQL Multi-AZ, and a WAF in front, with
// security groups chained ALB -> instances -> database.
package webportal

import (
	"regexp"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/controlplane"
)

// Spec mirrors compositions/webportal/xrd.yaml.
type Spec struct {
	// ControlPlaneRef is the Cluster whose Crossplane provider creates
	// this XR's roles, within that Cluster's permissions boundary
	// (default platform/tools).
	ControlPlaneRef controlplane.Ref  `json:"controlPlaneRef"`
	NetworkRef      NetworkRef        `json:"networkRef"`
	Environment     string            `json:"environment"`
	Instances       Instances         `json:"instances"`
	HTTPS           HTTPS             `json:"https"`
	Database        Database          `json:"database"`
	WAF             WAF               `json:"waf"`
	AccessLogs      AccessLogs        `json:"accessLogs"`
	Tags            map[string]string `json:"tags,omitempty"`
}

// NetworkRef names the Network (same namespace) the portal lives in.
type NetworkRef struct {
	Name string `json:"name"`
}

// Instances are the application servers.
type Instances struct {
	Type            string `json:"type"`
	AMI             string `json:"amiId"`
	UserData        string `json:"userData"`
	Port            int    `json:"port"`
	HealthCheckPath string `json:"healthCheckPath"`
	Min             int    `json:"min"`
	Max             int    `json:"max"`
	Desired         int    `json:"desired"`
	TargetCPU       int    `json:"targetCpuPercent"`
	RootVolumeGiB   int    `json:"rootVolumeGiB"`
}

// HTTPS is the ALB's TLS; AllowHTTPOnly exists for dev without a domain.
type HTTPS struct {
	CertificateARN string `json:"certificateArn"`
	AllowHTTPOnly  bool   `json:"allowHttpOnly"`
}

// Database is the RDS for MySQL instance.
type Database struct {
	InstanceClass       string `json:"instanceClass"`
	EngineVersion       string `json:"engineVersion"`
	AllocatedStorageGiB int    `json:"allocatedStorageGiB"`
	MaxStorageGiB       int    `json:"maxStorageGiB"`
	BackupRetentionDays int    `json:"backupRetentionDays"`
	Username            string `json:"username"`
	Name                string `json:"name"`
}

// WAF sends its logs to the lake's Firehose stream (aws-waf-logs-*).
type WAF struct {
	FirehoseARN string `json:"firehoseArn"`
	RateLimit   int    `json:"rateLimitPer5Min"`
}

// AccessLogs is where the ALB writes its access logs (the lake).
type AccessLogs struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
}

var (
	amiID       = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	acmARN      = regexp.MustCompile(`^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]+$`)
	wafFirehose = regexp.MustCompile(`^arn:aws[a-z-]*:firehose:[a-z0-9-]+:\d{12}:deliverystream/aws-waf-logs-[A-Za-z0-9_.-]+$`)
)

func readSpec(xr *resource.Composite) (*Spec, error) {
	s := &Spec{}
	if err := compose.ReadSpec(xr, s); err != nil {
		return nil, err
	}
	s.defaults()
	return s, s.validate()
}

func (s *Spec) defaults() {
	compose.Default(&s.Environment, "dev")
	compose.Default(&s.Instances.Port, 8080)
	compose.Default(&s.Instances.Min, 2)
	compose.Default(&s.Instances.Max, 6)
	compose.Default(&s.Instances.TargetCPU, 50)
	compose.Default(&s.Instances.RootVolumeGiB, 20)
	compose.Default(&s.Instances.Desired, s.Instances.Min)
	compose.Default(&s.Instances.HealthCheckPath, "/healthz")
	compose.Default(&s.Database.EngineVersion, "8.4")
	compose.Default(&s.Database.AllocatedStorageGiB, 20)
	compose.Default(&s.Database.BackupRetentionDays, 7)
	compose.Default(&s.Database.MaxStorageGiB, 5*s.Database.AllocatedStorageGiB)
	compose.Default(&s.Database.Username, "admin")
	compose.Default(&s.Database.Name, "shop")
	compose.Default(&s.WAF.RateLimit, 2000)
}

func (s *Spec) validate() error {
	in := s.Instances
	switch {
	case s.NetworkRef.Name == "":
		return compose.Invalid("spec.networkRef.name", nil, "required: the Network the portal lives in")
	case !amiID.MatchString(in.AMI):
		return compose.Invalid("spec.instances.amiId", in.AMI, "must be an AMI id like ami-0123456789abcdef0")
	case in.Type == "":
		return compose.Invalid("spec.instances.type", nil, "required")
	case in.Min < 1 || in.Min > in.Max:
		return compose.Invalid("spec.instances.min", in.Min, "must be at least 1 and at most max (%d)", in.Max)
	case in.Desired < in.Min || in.Desired > in.Max:
		return compose.Invalid("spec.instances.desired", in.Desired, "must be between min (%d) and max (%d)", in.Min, in.Max)
	case s.Database.InstanceClass == "":
		return compose.Invalid("spec.database.instanceClass", nil, "required")
	case s.Environment == "prod" && s.Database.BackupRetentionDays < 7:
		return compose.Invalid("spec.database.backupRetentionDays", s.Database.BackupRetentionDays, "prod keeps at least 7 days of backups")
	case !wafFirehose.MatchString(s.WAF.FirehoseARN):
		return compose.Invalid("spec.waf.firehoseArn", s.WAF.FirehoseARN, "must be a Firehose delivery stream ARN whose name starts with aws-waf-logs- (WAF only logs to those)")
	case s.AccessLogs.Bucket == "":
		return compose.Invalid("spec.accessLogs.bucket", nil, "required: ALB access logs go to the lake")
	}
	if s.HTTPS.AllowHTTPOnly {
		if s.Environment != "dev" {
			return compose.Invalid("spec.https.allowHttpOnly", true, "only a dev portal may serve plain HTTP")
		}
		return nil
	}
	if !acmARN.MatchString(s.HTTPS.CertificateARN) {
		return compose.Invalid("spec.https.certificateArn", s.HTTPS.CertificateARN, "required: an ACM certificate ARN (or allowHttpOnly: true in dev)")
	}
	return nil
}

// certRegion is the region an ACM ARN was issued in.
func certRegion(arn string) string {
	if m := acmARN.FindStringSubmatch(arn); m != nil {
		return m[1]
	}
	return ""
}
