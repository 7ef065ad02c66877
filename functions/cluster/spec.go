// Package cluster composes the Cluster API: the EKS cluster the platform's
// tools run on, with encrypted secrets, every control-plane log, private
// endpoint, managed node groups on IMDSv2-only launch templates, the core
// add-ons, access entries, and one least-privilege IAM role per platform
// workload bound by EKS Pod Identity.
package cluster

import (
	"fmt"
	"net/netip"
	"regexp"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/unsilo/unsilo/functions/compose"
)

// Spec mirrors compositions/cluster/xrd.yaml.
type Spec struct {
	NetworkRef struct {
		Name string `json:"name"`
	} `json:"networkRef"`
	AccountID   string `json:"accountId"`
	Environment string `json:"environment"`
	Version     string `json:"version"`
	Endpoint    struct {
		PublicAccessCIDRs []string `json:"publicAccessCidrs"`
	} `json:"endpoint"`
	NodeGroups []NodeGroup       `json:"nodeGroups"`
	Access     Access            `json:"access"`
	Workloads  Workloads         `json:"workloads"`
	Tags       map[string]string `json:"tags,omitempty"`

	AlertBridge AlertBridge `json:"alertBridge"` // alertqueue.go
}

// NodeGroup is one managed node group.
type NodeGroup struct {
	Name          string   `json:"name"`
	InstanceTypes []string `json:"instanceTypes"`
	CapacityType  string   `json:"capacityType"`
	AMIType       string   `json:"amiType"`
	Min           int      `json:"min"`
	Max           int      `json:"max"`
	Desired       int      `json:"desired"`
	DiskGiB       int      `json:"diskGiB"`
}

// Access lists the IAM roles that administer the cluster.
type Access struct {
	AdminRoleARN string `json:"adminRoleArn"`
	CIRoleARN    string `json:"ciRoleArn"`
}

// Workloads holds what each platform workload's IAM policy is scoped to.
type Workloads struct {
	LakeBucketARN    string `json:"lakeBucketArn"`
	CuratedBucketARN string `json:"curatedBucketArn"`
	LakeKeyARN       string `json:"lakeKeyArn"`
	AthenaWorkgroup  string `json:"athenaWorkgroupArn"`
	ALBBucketARN     string `json:"albBucketArn"`
	GlueDatabase     string `json:"glueDatabase"`
	// IngestQueueARN is the lake's ingest queue (DataLake <name>-ingest),
	// which log-shipper watch consumes.
	IngestQueueARN string `json:"ingestQueueArn"`
}

var (
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	roleARN   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)
	groupName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)
)

func readSpec(xr *resource.Composite) (*Spec, error) {
	s := &Spec{}
	if err := compose.ReadSpec(xr, s); err != nil {
		return nil, err
	}
	compose.Default(&s.Environment, "dev")
	compose.Default(&s.Version, "1.35")
	for i := range s.NodeGroups {
		g := &s.NodeGroups[i]
		if g.CapacityType == "" {
			g.CapacityType = "ON_DEMAND"
		}
		if g.AMIType == "" {
			g.AMIType = "AL2023_x86_64_STANDARD"
		}
		if g.DiskGiB == 0 {
			g.DiskGiB = 50
		}
		if g.Desired == 0 {
			g.Desired = g.Min
		}
	}
	return s, s.validate()
}

func (s *Spec) validate() error {
	if s.NetworkRef.Name == "" {
		return compose.Invalid("spec.networkRef.name", nil, "required: the Network whose private subnets the cluster uses")
	}
	if !accountID.MatchString(s.AccountID) {
		return compose.Invalid("spec.accountId", s.AccountID, "must be the 12-digit AWS account the cluster lives in (trust policies and the permissions boundary name it)")
	}
	for i, c := range s.Endpoint.PublicAccessCIDRs {
		p, err := netip.ParsePrefix(c)
		field := fmt.Sprintf("spec.endpoint.publicAccessCidrs[%d]", i)
		if err != nil || p != p.Masked() {
			return compose.Invalid(field, c, "must be a CIDR without host bits, e.g. 203.0.113.0/24")
		}
		if p.Bits() == 0 {
			return compose.Invalid(field, c, "the API endpoint is never open to the whole internet; list your office or VPN ranges, or none for a private-only endpoint")
		}
	}
	if len(s.NodeGroups) == 0 {
		return compose.Invalid("spec.nodeGroups", nil, "at least one node group is required")
	}
	seen := map[string]bool{}
	for i, g := range s.NodeGroups {
		f := fmt.Sprintf("spec.nodeGroups[%d]", i)
		switch {
		case !groupName.MatchString(g.Name) || seen[g.Name]:
			return compose.Invalid(f+".name", g.Name, "must be a unique lowercase name of up to 31 characters")
		case len(g.InstanceTypes) == 0:
			return compose.Invalid(f+".instanceTypes", nil, "at least one instance type")
		case g.Min < 0 || g.Min > g.Max || g.Max < 1:
			return compose.Invalid(f+".min", g.Min, "must be between 0 and max (%d), and max at least 1", g.Max)
		case g.Desired < g.Min || g.Desired > g.Max:
			return compose.Invalid(f+".desired", g.Desired, "must be between min (%d) and max (%d)", g.Min, g.Max)
		}
		seen[g.Name] = true
	}
	if err := s.validateAlertBridge(); err != nil {
		return err
	}
	for field, arn := range map[string]string{"spec.access.adminRoleArn": s.Access.AdminRoleARN, "spec.access.ciRoleArn": s.Access.CIRoleARN} {
		if arn != "" && !roleARN.MatchString(arn) {
			return compose.Invalid(field, arn, "must be an IAM role ARN")
		}
	}
	return nil
}
