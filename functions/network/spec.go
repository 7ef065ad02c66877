// Package network composes the Network API: a VPC over >= 2 availability
// zones with public and private subnets, NAT, VPC Flow Logs to the lake, an
// S3 gateway endpoint and the SSM interface endpoints through which internal
// tools are reached (there is no other way in).
package network

import (
	"net/netip"
	"regexp"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/unsilo/unsilo/functions/awsfacts"
	"github.com/unsilo/unsilo/functions/compose"
)

// NAT modes.
const (
	NATSingle = "single" // one NAT gateway: cheaper, one AZ's outage cuts egress
	NATPerAZ  = "perAZ"  // one per AZ: what production needs
)

// Spec mirrors the XRD's spec (compositions/network/xrd.yaml). The XRD is
// what the API server enforces; Validate repeats the checks the schema
// cannot express, and defaults are applied again here because
// `crossplane render` does not run the API server's defaulting.
type Spec struct {
	Region      string            `json:"region"`
	Environment string            `json:"environment"`
	CIDR        string            `json:"cidr"`
	AZCount     int               `json:"azCount"`
	NATMode     string            `json:"natMode"`
	FlowLogs    FlowLogs          `json:"flowLogs"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// FlowLogs says where VPC Flow Logs go: an S3 ARN, normally the lake's raw
// bucket with a prefix.
type FlowLogs struct {
	DestinationARN         string `json:"destinationArn"`
	TrafficType            string `json:"trafficType"`
	MaxAggregationInterval int    `json:"maxAggregationInterval"`
}

var s3ARN = regexp.MustCompile(`^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$`)

// minSubnetBits is AWS's smallest subnet, /28.
const minSubnetBits = 28

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
	compose.Default(&s.AZCount, 3)
	compose.Default(&s.NATMode, NATPerAZ)
	compose.Default(&s.FlowLogs.TrafficType, "ALL")
	compose.Default(&s.FlowLogs.MaxAggregationInterval, 60)
}

func (s *Spec) validate() error {
	if s.Region == "" {
		return compose.Invalid("spec.region", nil, "required")
	}
	if s.AZCount < 2 || s.AZCount > maxZones {
		return compose.Invalid("spec.azCount", s.AZCount, "must be between 2 and %d: one AZ is not highly available", maxZones)
	}
	if s.NATMode != NATSingle && s.NATMode != NATPerAZ {
		return compose.Invalid("spec.natMode", s.NATMode, "must be %q or %q", NATSingle, NATPerAZ)
	}
	if !s3ARN.MatchString(s.FlowLogs.DestinationARN) {
		return compose.Invalid("spec.flowLogs.destinationArn", s.FlowLogs.DestinationARN, "must be an S3 ARN like arn:aws:s3:::bucket/prefix/")
	}
	p, err := netip.ParsePrefix(s.CIDR)
	if err != nil || !p.Addr().Is4() || p != p.Masked() {
		return compose.Invalid("spec.cidr", s.CIDR, "must be an IPv4 network in CIDR notation with no host bits set, e.g. 10.20.0.0/16")
	}
	if !isPrivate(p) {
		return compose.Invalid("spec.cidr", s.CIDR, "must lie within 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10")
	}
	if p.Bits() < 16 {
		return compose.Invalid("spec.cidr", s.CIDR, "prefix length must be /16 or longer: AWS does not allow larger VPCs")
	}
	if bits := p.Bits() + slotBits; bits > minSubnetBits {
		return compose.Invalid("spec.cidr", s.CIDR, "too small: the VPC is split into 16 subnet slots, so each subnet would be /%d and AWS's smallest is /%d; use /%d or larger", bits, minSubnetBits, minSubnetBits-slotBits)
	}
	return nil
}

// maxZones is the most zones a Network spans: six, as many as the subnet
// layout has slots for and as many as the largest regions offer.
const maxZones = 6

// zones names AZs region+letter (eu-west-1a, ...), skipping the letters a
// region no longer offers to new accounts (ap-northeast-1b,
// awsfacts.UnavailableZones). Zone names map to different physical zones
// per account, which is fine for spreading.
func (s *Spec) zones() []string { return awsfacts.ZoneNames(s.Region, s.AZCount) }
