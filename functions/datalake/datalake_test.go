package datalake

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	athena "github.com/upbound/provider-aws/v2/apis/namespaced/athena/v1beta1"
	cloudtrail "github.com/upbound/provider-aws/v2/apis/namespaced/cloudtrail/v1beta1"
	firehose "github.com/upbound/provider-aws/v2/apis/namespaced/firehose/v1beta1"
	glue "github.com/upbound/provider-aws/v2/apis/namespaced/glue/v1beta1"
	s3 "github.com/upbound/provider-aws/v2/apis/namespaced/s3/v1beta1"

	"github.com/unsilo/unsilo/contracts/lake/queries"
	"github.com/unsilo/unsilo/contracts/lake/schema"
	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/compose/composetest"
)

func TestMain(m *testing.M) { os.Exit(composetest.Main(m, API{})) }

const (
	acct   = "123456789012"
	keyARN = "arn:aws:kms:ap-northeast-2:123456789012:key/k"
)

func base() map[string]any {
	return map[string]any{"region": "ap-northeast-2", "accountId": acct, "name": "unsilo-dev", "bucketPrefix": "unsilo-lake"}
}

// with sets a dotted path in a copy of base().
func with(path string, v any) map[string]any { return composetest.With(base(), path, v) }

// ready marks an observed resource Ready=True.
const ready = composetest.ReadyKey

func compose1(t *testing.T, spec map[string]any, observed map[string]map[string]any) *compose.Result {
	t.Helper()
	obs := composetest.Observed(observed)
	res, err := API{}.Compose(context.Background(), &compose.Request{XR: composetest.XR("DataLake", "platform", "lake", spec), Observed: obs, Required: composetest.Required(nil)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// converged is every resource once the key exists and the raw bucket's
// policy is Ready.
func converged(t *testing.T) *compose.Result {
	t.Helper()
	return compose1(t, base(), map[string]map[string]any{"key": {"arn": keyARN}, "raw-bucket-policy": {ready: true}})
}

func TestInvalidSpec(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   map[string]any
		field  string
	}{
		"NoRegion":            {"the buckets live in a region", func() map[string]any { s := base(); delete(s, "region"); return s }(), "spec.region"},
		"BadEnv":              {"only dev, staging and prod exist", with("environment", "qa"), "spec.environment"},
		"NoAccount":           {"bucket policies name the account", func() map[string]any { s := base(); delete(s, "accountId"); return s }(), "spec.accountId"},
		"ShortAccount":        {"an account id has 12 digits", with("accountId", "12345"), "spec.accountId"},
		"LongName":            {"aws-waf-logs-<name> must fit 64 characters", with("name", strings.Repeat("a", 60)), "spec.name"},
		"UpperName":           {"AWS names are lowercase here", with("name", "Lake"), "spec.name"},
		"LongPrefix":          {"bucket names stop at 63 characters", with("bucketPrefix", strings.Repeat("b", 60)), "spec.bucketPrefix"},
		"DoubleHyphen":        {"S3 refuses -- in some names; keep them clean", with("bucketPrefix", "a--b"), "spec.bucketPrefix"},
		"EarlyIA":             {"S3 transitions to STANDARD_IA after 30 days at the earliest", with("retention.raw.infrequentAccessAfterDays", 7), "spec.retention.raw.infrequentAccessAfterDays"},
		"GlacierTooSoon":      {"objects stay 30 days in STANDARD_IA", with("retention.raw.glacierAfterDays", 45), "spec.retention.raw.glacierAfterDays"},
		"ExpireBeforeGlacier": {"expiry after the last transition", with("retention.raw.expireAfterDays", 80), "spec.retention.raw.expireAfterDays"},
		"ProdShortRaw": {"prod keeps CloudTrail a year", func() map[string]any {
			s := with("retention.raw.expireAfterDays", 200)
			s["environment"] = "prod"
			return s
		}(), "spec.retention.raw.expireAfterDays"},
		"CuratedEarlyIA": {"S3 transitions to STANDARD_IA after 30 days at the earliest", with("retention.curated.infrequentAccessAfterDays", 10), "spec.retention.curated.infrequentAccessAfterDays"},
		"CuratedExpiry":  {"expiry after the transition", with("retention.curated.expireAfterDays", 60), "spec.retention.curated.expireAfterDays"},
		"TinyCutoff":     {"Athena's minimum cutoff is 10 MB", with("athena.bytesScannedCutoffPerQuery", 1024), "spec.athena.bytesScannedCutoffPerQuery"},
		"BadSchedule":    {"Glue takes cron(...)", with("catalog.crawlerSchedule", "hourly"), "spec.catalog.crawlerSchedule"},
		"OtherAccount":   {"the control plane creates the lake in its own account", with("accountId", "999999999999"), "spec.accountId"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := API{}.Compose(context.Background(), &compose.Request{XR: composetest.XR("DataLake", "platform", "lake", tc.spec), Required: composetest.Required(nil)})
			fe, ok := compose.AsFieldError(err)
			if !ok || fe.Field != tc.field {
				t.Errorf("%s: want a field error on %s, got %v", tc.reason, tc.field, err)
			}
		})
	}
}

type statement struct {
	Sid       string
	Effect    string
	Principal any
	Action    any
	Resource  any
	Condition map[string]map[string]any
}

func policy(t *testing.T, res *compose.Result, name string) []statement {
	t.Helper()
	bp, ok := res.Resources[resource.Name(name)].(*s3.BucketPolicy)
	if !ok {
		t.Fatalf("no bucket policy %s", name)
	}
	var doc struct{ Statement []statement }
	if err := json.Unmarshal([]byte(*bp.Spec.ForProvider.Policy), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Statement
}

var list = composetest.Strings

// grant is one (principal, prefix) a bucket policy admits for writing.
func grants(sts []statement) []string {
	var out []string
	for _, s := range sts {
		if s.Effect != "Allow" || !slices.Contains(list(s.Action), "s3:PutObject") {
			continue
		}
		p := s.Principal.(map[string]any)
		var who []string
		for _, k := range []string{"Service", "AWS"} {
			who = append(who, list(p[k])...)
		}
		for _, w := range who {
			for _, r := range list(s.Resource) {
				out = append(out, w+" "+r)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestBucketPolicies: each bucket denies plain HTTP, and admits for writing
// exactly the AWS log delivery services, each under its own prefix and this
// account's AWSLogs/ only.
func TestBucketPolicies(t *testing.T) {
	res := compose1(t, base(), nil)
	raw, alb := "arn:aws:s3:::unsilo-lake-raw-dev/", "arn:aws:s3:::unsilo-lake-alb-dev/"
	want := map[string][]string{
		"raw-bucket-policy": {
			"cloudtrail.amazonaws.com " + raw + "cloudtrail/AWSLogs/" + acct + "/*",
			"delivery.logs.amazonaws.com " + raw + "cloudfront/*",
			"delivery.logs.amazonaws.com " + raw + "vpcflow/AWSLogs/" + acct + "/*",
			// Hive-compatible partitions write under aws-account-id=<acct>.
			"delivery.logs.amazonaws.com " + raw + "vpcflow/AWSLogs/aws-account-id=" + acct + "/*",
		},
		"alb-bucket-policy": {
			"arn:aws:iam::600734575887:root " + alb + "alb/*/AWSLogs/" + acct + "/*",
			"arn:aws:iam::600734575887:root " + alb + "alb/AWSLogs/" + acct + "/*",
			"logdelivery.elasticloadbalancing.amazonaws.com " + alb + "alb/*/AWSLogs/" + acct + "/*",
			"logdelivery.elasticloadbalancing.amazonaws.com " + alb + "alb/AWSLogs/" + acct + "/*",
		},
		"curated-bucket-policy": nil,
	}
	for name, w := range want {
		sts := policy(t, res, name)
		if got := grants(sts); !slices.Equal(got, w) {
			t.Errorf("%s admits writes\n got %q\nwant %q", name, got, w)
		}
		tls := false
		for _, s := range sts {
			if s.Effect == "Deny" && s.Principal == "*" && s.Condition["Bool"]["aws:SecureTransport"] == "false" {
				tls = true
			}
			for _, c := range s.Condition {
				if v, ok := c["aws:SourceAccount"]; ok && v != acct {
					t.Errorf("%s %s: SourceAccount %v", name, s.Sid, v)
				}
			}
		}
		if !tls {
			t.Errorf("%s does not deny insecure transport", name)
		}
	}
	for _, s := range policy(t, res, "raw-bucket-policy") {
		if strings.HasPrefix(s.Sid, "CloudTrail") && s.Condition["StringEquals"]["aws:SourceArn"] != "arn:aws:cloudtrail:ap-northeast-2:"+acct+":trail/unsilo-dev" {
			t.Errorf("%s: CloudTrail must be limited to this trail, got %v", s.Sid, s.Condition)
		}
		if strings.HasPrefix(s.Sid, "LogDelivery") && !slices.Contains(list(s.Action), "s3:GetBucketAcl") {
			t.Errorf("%s: delivery.logs checks the bucket ACL first", s.Sid)
		}
	}
}

func TestBucketEncryption(t *testing.T) {
	res := converged(t)
	for zone, algo := range map[string]string{zoneRaw: "aws:kms", zoneCurated: "aws:kms", zoneALB: "AES256"} {
		e := res.Resources[resource.Name(zone+"-bucket-encryption")].(*s3.BucketServerSideEncryptionConfiguration)
		r := e.Spec.ForProvider.Rule[0]
		if got := *r.ApplyServerSideEncryptionByDefault.SseAlgorithm; got != algo || !*r.BucketKeyEnabled {
			t.Errorf("%s: SSE %s (bucket key %v), want %s with a bucket key", zone, got, *r.BucketKeyEnabled, algo)
		}
		// The key by the ARN AWS reported: a selector inside the rule list
		// makes the reference resolver and Crossplane's apply own the list
		// in turn.
		if k := r.ApplyServerSideEncryptionByDefault; algo == "aws:kms" && (k.KMSMasterKeyID == nil || *k.KMSMasterKeyID != keyARN || k.KMSMasterKeyIDSelector != nil) {
			t.Errorf("%s: KMS key %v (selector %v), want %s and no selector", zone, k.KMSMasterKeyID, k.KMSMasterKeyIDSelector, keyARN)
		}
	}
	early := compose1(t, base(), nil)
	for _, zone := range []string{zoneRaw, zoneCurated} {
		if _, ok := early.Resources[resource.Name(zone+"-bucket-encryption")]; ok {
			t.Errorf("%s: KMS encryption composed before the key's ARN is known", zone)
		}
	}
	if _, ok := early.Resources[resource.Name(zoneALB+"-bucket-encryption")]; !ok {
		t.Error("alb: SSE-S3 needs no key and must not wait for one")
	}
	lc := res.Resources["raw-bucket-lifecycle"].(*s3.BucketLifecycleConfiguration).Spec.ForProvider.Rule[0]
	if len(lc.Transition) != 2 || *lc.Transition[0].StorageClass != "STANDARD_IA" || *lc.Transition[1].StorageClass != "GLACIER_IR" || *lc.Expiration[0].Days != defaultRawExpire {
		t.Errorf("raw lifecycle: %+v", lc)
	}
}

// TestTablesMatchSchema: one Glue table per log-shipper source, column for
// column, partition keys and the Delta table type as the schema says.
func TestTablesMatchSchema(t *testing.T) {
	res := compose1(t, base(), nil)
	for _, s := range schema.Sources() {
		tb, ok := res.Resources[resource.Name("table-"+s.Name)].(*glue.CatalogTable)
		if !ok {
			t.Errorf("no table for source %s", s.Name)
			continue
		}
		p := tb.Spec.ForProvider
		if tb.Annotations["crossplane.io/external-name"] != s.Name {
			t.Errorf("%s: table named %q", s.Name, tb.Annotations["crossplane.io/external-name"])
		}
		sd := p.StorageDescriptor
		if len(sd.Columns) != len(s.Columns) {
			t.Fatalf("%s: %d columns, schema has %d", s.Name, len(sd.Columns), len(s.Columns))
		}
		for i, c := range s.Columns {
			if *sd.Columns[i].Name != c.Name || *sd.Columns[i].Type != c.GlueType() {
				t.Errorf("%s column %d: %s %s, schema %s %s", s.Name, i, *sd.Columns[i].Name, *sd.Columns[i].Type, c.Name, c.GlueType())
			}
		}
		var keys []string
		for _, k := range p.PartitionKeys {
			keys = append(keys, *k.Name+" "+*k.Type)
		}
		var wantKeys []string
		for _, k := range s.PartitionKeys {
			wantKeys = append(wantKeys, k.Name+" "+k.GlueType())
		}
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("%s partition keys %v, schema %v", s.Name, keys, wantKeys)
		}
		loc := "s3://unsilo-lake-curated-dev/logs"
		if *sd.Location != schema.TableLocation(s, loc) || *sd.InputFormat != schema.InputFormat || *sd.OutputFormat != schema.OutputFormat || *sd.SerDeInfo.SerializationLibrary != schema.SerializationLibrary {
			t.Errorf("%s storage: %s %s %s %s", s.Name, *sd.Location, *sd.InputFormat, *sd.OutputFormat, *sd.SerDeInfo.SerializationLibrary)
		}
		if v := sd.SerDeInfo.Parameters["path"]; v == nil || *v != schema.TableLocation(s, loc) {
			t.Errorf("%s: serde path %v", s.Name, v)
		}
		props := schema.TableProperties()
		if len(p.Parameters) != len(props) {
			t.Errorf("%s: %d parameters, schema %d", s.Name, len(p.Parameters), len(props))
		}
		for _, pr := range props {
			if v := p.Parameters[pr.Key]; v == nil || *v != pr.Value {
				t.Errorf("%s parameter %s = %v, want %s", s.Name, pr.Key, v, pr.Value)
			}
		}
	}
}

// TestNamedQueries: one named query per log-shipper .sql file, verbatim, in
// the lake's workgroup and database.
func TestNamedQueries(t *testing.T) {
	res := compose1(t, base(), nil)
	qs, err := queries.All()
	if err != nil || len(qs) == 0 {
		t.Fatalf("queries: %v (%d)", err, len(qs))
	}
	n := 0
	for name, o := range res.Resources {
		if _, ok := o.(*athena.NamedQuery); ok && strings.HasPrefix(string(name), "query-") {
			n++
		}
	}
	if n != len(qs) {
		t.Errorf("%d named queries, %d .sql files", n, len(qs))
	}
	for _, q := range qs {
		nq, ok := res.Resources[resource.Name(queryResource(q.Name))].(*athena.NamedQuery)
		if !ok {
			t.Errorf("no named query for %s.sql", q.Name)
			continue
		}
		p := nq.Spec.ForProvider
		if *p.Name != q.Name || *p.Query != q.SQL || *p.Database != "unsilo_dev" || p.WorkgroupSelector == nil {
			t.Errorf("%s: name %s database %s workgroup %v", q.Name, *p.Name, *p.Database, p.WorkgroupSelector)
		}
	}
	wg := res.Resources["workgroup"].(*athena.Workgroup).Spec.ForProvider.Configuration
	if !*wg.EnforceWorkgroupConfiguration || *wg.ResultConfiguration.EncryptionConfiguration.EncryptionOption != "SSE_KMS" ||
		*wg.ResultConfiguration.OutputLocation != "s3://unsilo-lake-curated-dev/athena-results/" || *wg.BytesScannedCutoffPerQuery != defaultCutoff {
		t.Errorf("workgroup configuration: %+v", wg)
	}
}

func TestFirehose(t *testing.T) {
	fh, ok := converged(t).Resources["firehose"].(*firehose.DeliveryStream)
	if !ok {
		t.Fatal("no firehose once the key exists")
	}
	p := fh.Spec.ForProvider
	if !strings.HasPrefix(*p.Name, "aws-waf-logs-") || *p.Name != "aws-waf-logs-unsilo-dev" {
		t.Errorf("WAF only logs to streams named aws-waf-logs-*, got %s", *p.Name)
	}
	s3c := p.ExtendedS3Configuration
	if *s3c.Prefix != "waf/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/" || *s3c.ErrorOutputPrefix != "waf-errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/" ||
		*s3c.CompressionFormat != "GZIP" || *s3c.KMSKeyArn != keyARN || !*p.ServerSideEncryption.Enabled || *p.ServerSideEncryption.KeyArn != keyARN {
		t.Errorf("extended_s3: %+v, sse %+v", s3c, p.ServerSideEncryption)
	}
	tr := converged(t).Resources["trail"].(*cloudtrail.Trail).Spec.ForProvider
	// The key's ARN, which CloudTrail reads back; a selector gives the key id.
	if !*tr.EnableLogFileValidation || !*tr.IsMultiRegionTrail || tr.KMSKeyIDSelector != nil || tr.KMSKeyID == nil || *tr.KMSKeyID != keyARN {
		t.Errorf("trail: %+v", tr)
	}
}

// TestOrdering: what takes the key's ARN without a selector waits for the
// key; the trail waits for the bucket policy AWS checks at creation.
func TestOrdering(t *testing.T) {
	late := []string{"firehose", "firehose-role", "crawler-role", "crawler-waf", "trail"}
	first := compose1(t, base(), nil)
	for _, n := range late {
		if _, ok := first.Resources[resource.Name(n)]; ok {
			t.Errorf("%s composed before what it needs exists", n)
		}
	}
	for _, n := range []string{"key", "raw-bucket", "raw-bucket-policy", "database", "table-alb", "workgroup"} {
		if _, ok := first.Resources[resource.Name(n)]; !ok {
			t.Errorf("%s should be composed at once", n)
		}
	}
	keyOnly := compose1(t, base(), map[string]map[string]any{"key": {"arn": keyARN}})
	if _, ok := keyOnly.Resources["trail"]; ok {
		t.Error("the trail must wait for the raw bucket's policy to be Ready")
	}
	all := converged(t)
	for _, n := range late {
		if _, ok := all.Resources[resource.Name(n)]; !ok {
			t.Errorf("%s missing once its dependencies exist", n)
		}
	}
}

func TestStatus(t *testing.T) {
	res := compose1(t, base(), map[string]map[string]any{
		"raw-bucket": {"id": "unsilo-lake-raw-dev"}, "curated-bucket": {"id": "unsilo-lake-curated-dev"},
		"firehose": {"arn": "arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/aws-waf-logs-unsilo-dev"},
		"database": {"id": acct + ":unsilo_dev"}, "workgroup": {"id": "unsilo-dev"},
		"ingest-queue": {"url": "https://sqs.ap-northeast-2.amazonaws.com/123456789012/unsilo-dev-ingest"},
		"ingest-dlq":   {"arn": "arn:aws:sqs:ap-northeast-2:123456789012:unsilo-dev-ingest-dlq"},
	})
	want := map[string]any{
		"rawBucket": "unsilo-lake-raw-dev", "curatedBucket": "unsilo-lake-curated-dev",
		"firehoseArn":  "arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/aws-waf-logs-unsilo-dev",
		"databaseName": "unsilo_dev", "workgroup": "unsilo-dev",
		"ingestQueueUrl":           "https://sqs.ap-northeast-2.amazonaws.com/123456789012/unsilo-dev-ingest",
		"ingestDeadLetterQueueArn": "arn:aws:sqs:ap-northeast-2:123456789012:unsilo-dev-ingest-dlq",
	}
	for k, v := range want {
		if res.Status[k] != v {
			t.Errorf("status.%s = %v, want %v", k, res.Status[k], v)
		}
	}
	if len(compose1(t, base(), nil).Status) != 0 {
		t.Error("status before anything is observed should be empty")
	}
}

// TestKeyOutlivesBuckets: the key cannot be scheduled for deletion while a
// bucket encrypted with it exists.
func TestKeyOutlivesBuckets(t *testing.T) {
	all := map[string]map[string]any{"key": {"arn": keyARN}, "raw-bucket-policy": {ready: true}}
	for n := range converged(t).Resources {
		if all[string(n)] == nil {
			all[string(n)] = map[string]any{}
		}
	}
	res := compose1(t, base(), all)
	for _, u := range []string{"usage-raw-bucket-uses-key", "usage-curated-bucket-uses-key", "usage-trail-uses-key"} {
		if _, ok := res.Resources[resource.Name(u)]; !ok {
			t.Errorf("no %s: deleting the lake would schedule its key's deletion under buckets that stay", u)
		}
	}
}
