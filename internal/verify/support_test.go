package verify

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/awsfacts"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
)

// TestSupport: a pinned version near or past its end of standard support
// is refused with the date and the version to pin, on a fixed clock.
func TestSupport(t *testing.T) {
	day := func(s string) func() time.Time {
		return func() time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	}
	eks := func(v string) unstructured.Unstructured {
		return obj("eks.aws.m.upbound.io/v1beta1", "Cluster", "cluster", fp(map[string]any{"version": v}))
	}
	mysql := func(v string) unstructured.Unstructured {
		return obj("rds.aws.m.upbound.io/v1beta1", "Instance", "database", fp(map[string]any{"engine": "mysql", "engineVersion": v}))
	}
	cases := map[string]struct {
		reason string
		now    string
		cd     unstructured.Unstructured
		want   string
	}{
		"EKSInSupport":     {"1.35 is in standard support until 2027-03-27", "2026-12-01", eks("1.35"), ""},
		"EKSEnding":        {"1.34 leaves standard support the next day (issue 13 part 2: the Cluster default was 1.34)", "2026-12-01", eks("1.34"), "leaves standard support on 2026-12-02"},
		"EKSWithinWarning": {"within 60 days of the end the upgrade is due", "2027-02-01", eks("1.35"), "2027-03-27"},
		"EKSUnknown":       {"a version the table lacks fails closed", "2026-12-01", eks("1.36"), "has no end-of-support date"},
		"MySQL80":          {"RDS for MySQL 8.0 left standard support on 2026-07-31 (the WebPortal default was 8.0)", "2026-12-01", mysql("8.0"), "pin 8.4"},
		"MySQLMinor":       {"a full engine version is judged by its major", "2026-12-01", mysql("8.0.39"), "leaves standard support on 2026-07-31"},
		"MySQL84":          {"8.4 is in standard support", "2026-12-01", mysql("8.4"), ""},
		"NotMySQL":         {"other engines are not judged by MySQL's calendar", "2026-12-01", obj("rds.aws.m.upbound.io/v1beta1", "Instance", "database", fp(map[string]any{"engine": "postgres", "engineVersion": "16"})), ""},
	}
	xr := manifest.Object{Unstructured: &unstructured.Unstructured{Object: map[string]any{"kind": "Thing", "metadata": map[string]any{"name": "x", "namespace": "ns"}}}}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fs := checkSupport(&Checker{Now: day(tc.now)}, xr, &render.Output{Composed: []unstructured.Unstructured{tc.cd}})
			switch {
			case tc.want == "" && len(fs) > 0:
				t.Errorf("%s: unexpected %v", tc.reason, fs)
			case tc.want != "" && (len(fs) != 1 || !strings.Contains(fs[0].Reason, tc.want)):
				t.Errorf("%s: want one finding with %q, got %v", tc.reason, tc.want, fs)
			}
		})
	}
	for _, table := range []map[string]awsfacts.Support{awsfacts.EKSVersions, awsfacts.RDSMySQLMajors} {
		for v, s := range table {
			if _, err := time.Parse(time.DateOnly, s.StandardUntil); err != nil {
				t.Errorf("%s: %v", v, err)
			}
		}
	}
}
