package verify

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/unsilo/unsilo/functions/awsfacts"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

// supportWarning is how long before the end of standard support a pinned
// version is refused: time to plan the upgrade, not to discover the bill.
const supportWarning = 60 * 24 * time.Hour

// checkSupport refuses an EKS Kubernetes version or an RDS for MySQL major
// version that is past, or within supportWarning of, its end of standard
// support (awsfacts), and one the tables do not know (fail closed: a new
// version is added to the table with its date).
func checkSupport(c *Checker, xr manifest.Object, out *render.Output) []Finding {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	var fs []Finding
	for i := range out.Composed {
		cd := &out.Composed[i]
		var table map[string]awsfacts.Support
		var field, version, what string
		switch {
		case cd.GetKind() == "Cluster" && isGroup(cd, "eks."):
			table, field, what = awsfacts.EKSVersions, "spec.forProvider.version", "EKS Kubernetes"
		case cd.GetKind() == "Instance" && isGroup(cd, "rds.") && nested(cd, "spec", "forProvider", "engine") == "mysql":
			table, field, what = awsfacts.RDSMySQLMajors, "spec.forProvider.engineVersion", "RDS for MySQL"
		default:
			continue
		}
		version = nested(cd, strings.Split(field, ".")...)
		s, ok := table[majorOf(version, what)]
		switch {
		case version == "":
			fs = append(fs, composedFinding(xr, cd, field, what+" version is not pinned: AWS picks one and the render cannot show its support", "aws-support"))
		case !ok:
			fs = append(fs, composedFinding(xr, cd, field, fmt.Sprintf("%s %s has no end-of-support date in functions/awsfacts (known: %s): add it from AWS's calendar", what, version, strings.Join(keys(table), ", ")), "aws-support"))
		case !now.Add(supportWarning).Before(s.Ends()):
			fs = append(fs, composedFinding(xr, cd, field, fmt.Sprintf("%s %s leaves standard support on %s (%s): past it AWS bills extended support and later upgrades it; pin %s", what, version, s.StandardUntil, s.Source, newest(table)), "aws-support"))
		}
	}
	return fs
}

// majorOf is the table key of a version: EKS minor versions as they are,
// MySQL's major.minor of a full engine version (8.0.39 -> 8.0).
func majorOf(v, what string) string {
	if what != "RDS for MySQL" {
		return v
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

func keys(m map[string]awsfacts.Support) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// newest is the version whose standard support lasts longest.
func newest(m map[string]awsfacts.Support) string {
	best := ""
	for k, s := range m {
		if best == "" || s.Ends().After(m[best].Ends()) {
			best = k
		}
	}
	return best
}
