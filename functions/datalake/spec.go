// Package datalake composes the DataLake API: the S3 lake every platform
// log lands in (raw zone for what AWS services deliver, curated zone for
// log-shipper's Parquet), its KMS key, the WAF Firehose stream and the
// CloudTrail trail that write to it, and the Glue catalog and Athena
// workgroup that query it, and the SQS queue that carries the raw zones'
// new objects to log-shipper watch. The curated (Delta Lake) tables and the
// named queries come from the lake contract (contracts/lake), which
// log-shipper writes by, so the catalog and the writer cannot drift apart.
package datalake

import (
	"cmp"
	"regexp"
	"strings"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/controlplane"
)

// Spec mirrors compositions/datalake/xrd.yaml.
type Spec struct {
	// ControlPlaneRef is the Cluster whose Crossplane provider creates
	// this XR's roles, within that Cluster's permissions boundary
	// (default platform/tools).
	ControlPlaneRef controlplane.Ref `json:"controlPlaneRef"`
	Region          string           `json:"region"`
	Environment     string           `json:"environment"`
	AccountID       string           `json:"accountId"`
	// Name is the lake's AWS name (workgroup, trail, Firehose
	// aws-waf-logs-<name>, Glue database); default the XR's name.
	Name string `json:"name"`
	// BucketPrefix names the buckets <prefix>-{raw,curated,alb}-<env>;
	// default <namespace>-<xr name>.
	BucketPrefix string            `json:"bucketPrefix"`
	Retention    Retention         `json:"retention"`
	Athena       Athena            `json:"athena"`
	Catalog      Catalog           `json:"catalog"`
	Tags         map[string]string `json:"tags,omitempty"`
}

// Retention is the lifecycle of each zone, in days after an object's creation.
type Retention struct {
	Raw     RawRetention     `json:"raw"`
	Curated CuratedRetention `json:"curated"`
}

// RawRetention: STANDARD -> STANDARD_IA -> GLACIER_IR -> deleted.
type RawRetention struct {
	InfrequentAccessAfterDays int `json:"infrequentAccessAfterDays"`
	GlacierAfterDays          int `json:"glacierAfterDays"`
	ExpireAfterDays           int `json:"expireAfterDays"`
}

// CuratedRetention: STANDARD -> STANDARD_IA -> deleted.
type CuratedRetention struct {
	InfrequentAccessAfterDays int `json:"infrequentAccessAfterDays"`
	ExpireAfterDays           int `json:"expireAfterDays"`
}

// Athena is the workgroup's limits.
type Athena struct {
	BytesScannedCutoffPerQuery int64 `json:"bytesScannedCutoffPerQuery"`
}

// Catalog is the Glue side.
type Catalog struct {
	// CrawlerSchedule runs the raw-zone crawlers; empty = on demand only.
	CrawlerSchedule string `json:"crawlerSchedule,omitempty"`
}

// Defaults, equal to the XRD's.
const (
	defaultRawIA         = 30
	defaultRawGlacier    = 90
	defaultRawExpire     = 400
	defaultCuratedIA     = 90
	defaultCuratedExpire = 730
	defaultCutoff        = 10 << 30 // 10 GiB per query
	minCutoff            = 10 << 20 // Athena's minimum: 10 MB
	// Lifecycle minimums S3 enforces: objects stay 30 days in STANDARD
	// before STANDARD_IA, and 30 days in STANDARD_IA before moving on.
	minIADays = 30
)

var (
	lakeName     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}[a-z0-9]$`)
	bucketPrefix = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*[a-z0-9]$`)
	accountID    = regexp.MustCompile(`^[0-9]{12}$`)
	cronExpr     = regexp.MustCompile(`^cron\([^()]+\)$`)
	environments = map[string]bool{"dev": true, "staging": true, "prod": true}
)

func readSpec(xr *resource.Composite) (*Spec, error) {
	s := &Spec{}
	if err := compose.ReadSpec(xr, s); err != nil {
		return nil, err
	}
	s.Environment = cmp.Or(s.Environment, "dev")
	s.Name = cmp.Or(s.Name, xr.Resource.GetName())
	s.BucketPrefix = cmp.Or(s.BucketPrefix, xr.Resource.GetNamespace()+"-"+xr.Resource.GetName())
	r := &s.Retention
	r.Raw.InfrequentAccessAfterDays = cmp.Or(r.Raw.InfrequentAccessAfterDays, defaultRawIA)
	r.Raw.GlacierAfterDays = cmp.Or(r.Raw.GlacierAfterDays, defaultRawGlacier)
	r.Raw.ExpireAfterDays = cmp.Or(r.Raw.ExpireAfterDays, defaultRawExpire)
	r.Curated.InfrequentAccessAfterDays = cmp.Or(r.Curated.InfrequentAccessAfterDays, defaultCuratedIA)
	r.Curated.ExpireAfterDays = cmp.Or(r.Curated.ExpireAfterDays, defaultCuratedExpire)
	s.Athena.BytesScannedCutoffPerQuery = cmp.Or(s.Athena.BytesScannedCutoffPerQuery, defaultCutoff)
	return s, s.validate()
}

func (s *Spec) validate() error {
	if s.Region == "" {
		return compose.Invalid("spec.region", nil, "required")
	}
	if !environments[s.Environment] {
		return compose.Invalid("spec.environment", s.Environment, "must be dev, staging or prod")
	}
	if !accountID.MatchString(s.AccountID) {
		return compose.Invalid("spec.accountId", s.AccountID, "must be the 12-digit AWS account the lake lives in (bucket policies and the Glue catalog name it)")
	}
	if !lakeName.MatchString(s.Name) {
		return compose.Invalid("spec.name", s.Name, "must be 2-41 lowercase letters, digits or hyphens (the Firehose stream is aws-waf-logs-<name>, at most 64 characters)")
	}
	longest := s.BucketPrefix + "-curated-" + s.Environment
	if !bucketPrefix.MatchString(s.BucketPrefix) || strings.Contains(s.BucketPrefix, "--") || len(longest) > 63 {
		return compose.Invalid("spec.bucketPrefix", s.BucketPrefix, "must be lowercase letters, digits and single hyphens, short enough that %s fits in 63 characters", longest)
	}
	raw := s.Retention.Raw
	if raw.InfrequentAccessAfterDays < minIADays {
		return compose.Invalid("spec.retention.raw.infrequentAccessAfterDays", raw.InfrequentAccessAfterDays, "S3 moves objects to STANDARD_IA after 30 days at the earliest")
	}
	if raw.GlacierAfterDays < raw.InfrequentAccessAfterDays+minIADays {
		return compose.Invalid("spec.retention.raw.glacierAfterDays", raw.GlacierAfterDays, "must be at least 30 days after infrequentAccessAfterDays (%d): S3 keeps objects 30 days in STANDARD_IA", raw.InfrequentAccessAfterDays)
	}
	if raw.ExpireAfterDays <= raw.GlacierAfterDays {
		return compose.Invalid("spec.retention.raw.expireAfterDays", raw.ExpireAfterDays, "must be after glacierAfterDays (%d)", raw.GlacierAfterDays)
	}
	if s.Environment == "prod" && raw.ExpireAfterDays < 365 {
		return compose.Invalid("spec.retention.raw.expireAfterDays", raw.ExpireAfterDays, "prod keeps raw logs (CloudTrail included) at least 365 days for audit")
	}
	cur := s.Retention.Curated
	if cur.InfrequentAccessAfterDays < minIADays {
		return compose.Invalid("spec.retention.curated.infrequentAccessAfterDays", cur.InfrequentAccessAfterDays, "S3 moves objects to STANDARD_IA after 30 days at the earliest")
	}
	if cur.ExpireAfterDays <= cur.InfrequentAccessAfterDays {
		return compose.Invalid("spec.retention.curated.expireAfterDays", cur.ExpireAfterDays, "must be after infrequentAccessAfterDays (%d)", cur.InfrequentAccessAfterDays)
	}
	if s.Athena.BytesScannedCutoffPerQuery < minCutoff {
		return compose.Invalid("spec.athena.bytesScannedCutoffPerQuery", s.Athena.BytesScannedCutoffPerQuery, "Athena's minimum is 10485760 bytes (10 MB)")
	}
	if c := s.Catalog.CrawlerSchedule; c != "" && !cronExpr.MatchString(c) {
		return compose.Invalid("spec.catalog.crawlerSchedule", c, "must be a cron(...) expression as Glue takes it, e.g. cron(15 * * * ? *)")
	}
	return nil
}

// Bucket names, derived once so the bucket policies, the trail, Firehose
// and the tables agree.
func (s *Spec) bucket(zone string) string { return s.BucketPrefix + "-" + zone + "-" + s.Environment }

// database is the Glue database: Glue names are lowercase with underscores.
func (s *Spec) database() string { return strings.ReplaceAll(s.Name, "-", "_") }

// firehoseName is the WAF delivery stream; WAF only logs to streams whose
// name starts with aws-waf-logs-.
func (s *Spec) firehoseName() string { return "aws-waf-logs-" + s.Name }
