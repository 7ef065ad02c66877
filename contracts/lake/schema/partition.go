package schema

import (
	"regexp"
	"strings"
)

// Unknown is the account or region partition of a record when neither the
// record nor its input's name says (a local file, a Fluent Bit batch).
const Unknown = "unknown"

// Global is the region partition of a global service's logs (CloudFront).
const Global = "global"

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	// AWS delivery keys: …/AWSLogs/[o-org/]<account>/<service>/<region>/…
	awsLogsRE = regexp.MustCompile(`(?:^|/)AWSLogs/(?:o-[a-z0-9]+/)?([0-9]{12})(?:/[^/]+/([a-z]{2}(?:-[a-z]+)+-[0-9]{1,2})/)?`)
)

// Account returns v if it is a 12-digit account id, else Unknown: partition
// values become path segments, so nothing else gets through.
func Account(v string) string {
	if accountRE.MatchString(v) {
		return v
	}
	return Unknown
}

// Region returns v if it is a region name (or Global), else Unknown.
func Region(v string) string {
	if v == Global || regionRE.MatchString(v) {
		return v
	}
	return Unknown
}

// FromARN returns the region and account fields of an ARN
// (arn:partition:service:region:account:resource), "" for a non-ARN.
func FromARN(arn string) (region, account string) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 || f[0] != "arn" {
		return "", ""
	}
	return f[3], f[4]
}

// FromKey returns the account and region an AWS-delivered object's key
// names (AWSLogs/<account>/<service>/<region>/...), Unknown for what it
// does not.
func FromKey(key string) (account, region string) {
	m := awsLogsRE.FindStringSubmatch(key)
	if m == nil {
		return Unknown, Unknown
	}
	return Account(m[1]), Region(m[2])
}
