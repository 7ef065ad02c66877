package verify

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/unsilo/unsilo/functions/cluster"
	"github.com/unsilo/unsilo/functions/controlplane"
	"github.com/unsilo/unsilo/functions/datalake"

	"github.com/unsilo/unsilo/internal/manifest"
)

var (
	arnRE     = regexp.MustCompile(`^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):([0-9]{12}|\*)?:`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
)

// settingsKeys every environment's settings must hold.
var settingsKeys = []string{"environment", "accountId", "region", "domain", "clusterName", "clusterRefName", "clusterRefNamespace", "clusterBoundaryArn"}

// checkSettings checks clusters/<env>/settings against itself and against
// what the environment syncs: its environment is the folder, every ARN in
// it and in the environment's XRs names its account, the lake's names are
// the ones the environment's DataLake composes, and the cluster name is the
// EKS name of its Cluster.
func (c *Checker) checkSettings(r *Report, e *environment) {
	if e.settings == nil {
		r.add(Finding{File: "clusters/" + e.name + "/settings/settings.yaml", Object: "ConfigMap/settings", Rule: "settings",
			Reason: "missing at the release: every environment has one settings file (account, region, domain, lake) that its claims and values read"})
		return
	}
	s, file := e.settings, e.settingsFile
	bad := func(key, format string, args ...any) {
		r.add(Finding{File: file, Object: "ConfigMap/settings", Field: "data." + key, Rule: "settings", Reason: fmt.Sprintf(format, args...)})
	}
	for _, k := range settingsKeys {
		if s[k] == "" {
			bad(k, "required")
		}
	}
	if s["environment"] != "" && s["environment"] != e.name {
		bad("environment", "%q in clusters/%s: the settings of an environment name it", s["environment"], e.name)
	}
	if a := s["accountId"]; a != "" && !accountRE.MatchString(a) {
		bad("accountId", "%q is not a 12-digit AWS account id", a)
	}
	for _, k := range sortedKeys(s) {
		if msg := c.arnAccount(s[k], s); msg != "" {
			bad(k, "%s", msg)
		}
	}
	// What the environment's own XRs compose must be what the settings say.
	for _, o := range e.synced() {
		u := o.u
		switch u.GetKind() {
		case "DataLake":
			n, err := datalake.NamesOf(u)
			if err != nil {
				continue // its schema and render findings say why
			}
			arn := func(service, resource string) string {
				return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, s["region"], s["accountId"], resource)
			}
			want := map[string]string{
				"lakeName":               n.Name,
				"lakeRawBucket":          n.RawBucket,
				"lakeRawBucketArn":       "arn:aws:s3:::" + n.RawBucket,
				"lakeFlowLogsArn":        "arn:aws:s3:::" + n.FlowLogsPath,
				"lakeAlbBucket":          n.ALBBucket,
				"lakeCuratedBucketArn":   "arn:aws:s3:::" + n.CuratedBucket,
				"lakeAlbBucketArn":       "arn:aws:s3:::" + n.ALBBucket,
				"lakeGlueDatabase":       n.Database,
				"lakeCuratedURL":         n.CuratedURL,
				"lakeWafFirehoseArn":     arn("firehose", "deliverystream/"+n.Firehose),
				"lakeAthenaWorkgroupArn": arn("athena", "workgroup/"+n.Name),
				"lakeIngestQueueUrl":     fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", s["region"], s["accountId"], n.IngestQueue),
				"lakeIngestQueueArn":     fmt.Sprintf("arn:aws:sqs:%s:%s:%s", s["region"], s["accountId"], n.IngestQueue),
			}
			for _, k := range sortedKeys(want) {
				if got, ok := s[k]; ok && got != want[k] {
					bad(k, "%q, but %s composes %q", got, manifest.ID(u), want[k])
				}
			}
		case "Cluster":
			if u.GetNamespace() == "platform" {
				if eks := cluster.EKSName(u.GetNamespace(), u.GetName()); s["clusterName"] != eks {
					bad("clusterName", "%q, but the environment's %s is named %q in EKS", s["clusterName"], manifest.ID(u), eks)
				}
				// Every role is created within this Cluster's boundary, named
				// after it: a wrong reference is a role AWS refuses.
				if s["clusterRefName"] != u.GetName() || s["clusterRefNamespace"] != u.GetNamespace() {
					bad("clusterRefName", "%s/%s, but the environment's Cluster is %s (its permissions boundary is named after it)", s["clusterRefNamespace"], s["clusterRefName"], manifest.ID(u))
				}
				if want := controlplane.BoundaryARN(s["accountId"], u.GetNamespace(), u.GetName()); s["clusterBoundaryArn"] != want {
					bad("clusterBoundaryArn", "%q, but the environment's %s composes %q", s["clusterBoundaryArn"], manifest.ID(u), want)
				}
			}
		}
		if c.Catalog.IsXR(u) {
			walkStrings(u.Object["spec"], "spec", func(path, v string) {
				if msg := c.arnAccount(v, s); msg != "" {
					r.add(Finding{File: e.where(o.app, u), Line: lineOf(o.app, u), Object: manifest.ID(u), Field: path, Rule: "settings",
						Reason: msg + " (claims name the environment's lake and roles through its settings, not by hand)"})
				}
			})
		}
	}
}

// arnAccount says what is wrong with an ARN's account, or "".
func (c *Checker) arnAccount(v string, s map[string]string) string {
	m := arnRE.FindStringSubmatch(v)
	if m == nil || m[3] == "" || m[3] == "*" || s["accountId"] == "" || m[3] == s["accountId"] {
		return ""
	}
	return fmt.Sprintf("%s names account %s, but this environment is account %s", v, m[3], s["accountId"])
}

func walkStrings(v any, path string, f func(path, v string)) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			walkStrings(x[k], path+"."+k, f)
		}
	case []any:
		for i, e := range x {
			walkStrings(e, fmt.Sprintf("%s[%d]", path, i), f)
		}
	case string:
		f(path, x)
	}
}

// globalName says whether an AWS name that is unique across all accounts
// carries the environment, so dev and prod never claim the same one.
func globalName(name, env string) bool {
	for _, t := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '.' }) {
		if t == env {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
