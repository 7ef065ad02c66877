package verify

import (
	"fmt"
	"sort"
	"strings"

	// The v1 SDK is deprecated, but its generated endpoint tables are the
	// machine-readable list of each service's regions; v2 has none.
	"github.com/aws/aws-sdk-go/aws/endpoints" //nolint:staticcheck // SA1019: see above

	"github.com/unsilo/unsilo/functions/awsfacts"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

// endpointService maps a provider-aws API group (<group>.aws.m.upbound.io)
// to its service in the AWS SDK's endpoint tables, where they differ.
// Groups missing from the tables or global there (IAM, CloudFront) are
// not checked.
var endpointService = map[string]string{
	"elbv2":          "elasticloadbalancing",
	"cloudwatchlogs": "logs",
	"cloudcontrol":   "cloudcontrolapi",
}

// regionTable is which regions each service is offered in, from the region
// lists generated into the AWS SDK for Go v1's aws/endpoints package
// (v1.55.8, the SDK's last release, July 2025: a region or service launched
// later is missing, and the check then says so rather than passing).
func regionTable() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, p := range endpoints.DefaultPartitions() {
		if p.ID() != endpoints.AwsPartitionID {
			continue
		}
		for id, s := range p.Services() {
			rs := map[string]bool{}
			for r := range s.Regions() {
				rs[r] = true
			}
			out[id] = rs
		}
	}
	return out
}

var regions = regionTable()

// checkRegions refuses a composed resource in a region where its service
// is not offered (AWS would answer with an unresolvable endpoint), or in a
// zone the region no longer offers to new accounts.
func checkRegions(_ *Checker, xr manifest.Object, out *render.Output) []Finding {
	var fs []Finding
	for i := range out.Composed {
		cd := &out.Composed[i]
		if z, _, _ := unstructuredString(cd.Object, "spec", "forProvider", "availabilityZone"); awsfacts.ZoneUnavailable(z) {
			fs = append(fs, composedFinding(xr, cd, "spec.forProvider.availabilityZone",
				z+" is not offered to new accounts (awsfacts.UnavailableZones): AWS refuses the resource there", "aws-region"))
		}
		group, _, _ := strings.Cut(cd.GetAPIVersion(), "/")
		short, ok := strings.CutSuffix(group, ".aws.m.upbound.io")
		if !ok {
			continue
		}
		region, _, _ := unstructuredString(cd.Object, "spec", "forProvider", "region")
		if region == "" {
			continue
		}
		svc := short
		if s, ok := endpointService[short]; ok {
			svc = s
		}
		offered, known := regions[svc]
		if !known || len(offered) == 0 {
			continue // global, or not in the tables
		}
		if !offered[region] {
			list := make([]string, 0, len(offered))
			for r := range offered {
				list = append(list, r)
			}
			sort.Strings(list)
			fs = append(fs, composedFinding(xr, cd, "spec.forProvider.region",
				fmt.Sprintf("%s is not offered in %s (AWS SDK endpoint table: %s)", svc, region, strings.Join(list, ", ")), "aws-region"))
		}
	}
	return fs
}
