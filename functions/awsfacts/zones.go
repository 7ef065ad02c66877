package awsfacts

import "strings"

// UnavailableZones are zone letters a region no longer offers to new
// accounts: in ap-northeast-1 (Tokyo) accounts created since the region's
// early years see only ap-northeast-1a, -1c and -1d, and a subnet in
// ap-northeast-1b is refused (EC2 User Guide, Regions and Zones; the zone
// behind the letter is the constrained AZ ID apne1-az3).
var UnavailableZones = map[string]string{
	"ap-northeast-1": "b",
}

// ZoneNames are the first n zone names of region a new account can use,
// in letter order.
func ZoneNames(region string, n int) []string {
	skip := UnavailableZones[region]
	out := make([]string, 0, n)
	for l := 'a'; len(out) < n && l <= 'z'; l++ {
		if strings.ContainsRune(skip, l) {
			continue
		}
		out = append(out, region+string(l))
	}
	return out
}

// ZoneUnavailable reports whether a zone name is one new accounts cannot use.
func ZoneUnavailable(zone string) bool {
	if len(zone) < 2 {
		return false
	}
	region, letter := zone[:len(zone)-1], zone[len(zone)-1:]
	return strings.Contains(UnavailableZones[region], letter)
}
