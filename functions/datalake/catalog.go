package datalake

import (
	"fmt"
	"strings"

	athena "github.com/upbound/provider-aws/v2/apis/namespaced/athena/v1beta1"
	glue "github.com/upbound/provider-aws/v2/apis/namespaced/glue/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"

	"github.com/unsilo/unsilo/contracts/lake/queries"
	"github.com/unsilo/unsilo/contracts/lake/schema"
	"github.com/unsilo/unsilo/functions/compose"
)

// crawl is one raw-zone crawler: the bucket zone and prefix it reads.
type crawl struct {
	source, zone, prefix string
	exclude              []string
}

// crawls are the raw prefixes the crawlers catalog (tables raw_<source>):
// the formats AWS delivers, before log-shipper curates them.
var crawls = []crawl{
	{source: schema.ALB, zone: zoneALB, prefix: prefixALB + "/"},
	{source: schema.VPCFlow, zone: zoneRaw, prefix: prefixVPCFlow},
	{source: schema.CloudFront, zone: zoneRaw, prefix: prefixCloudFront},
	{source: schema.CloudTrail, zone: zoneRaw, prefix: prefixCloudTrail + "/", exclude: []string{"**/CloudTrail-Digest/**"}},
	{source: schema.WAF, zone: zoneRaw, prefix: prefixWAF},
}

// curatedLocation is the lake root log-shipper writes to (its --out).
func (b *builder) curatedLocation() string {
	return "s3://" + b.spec.bucket(zoneCurated) + "/" + curatedRoot
}

// catalog composes the Glue database, one curated table per log-shipper
// source and the raw-zone crawlers with their role.
func (b *builder) catalog() {
	b.out.Add("database", &glue.CatalogDatabase{
		ObjectMeta: b.named("database", b.spec.database()),
		Spec: glue.CatalogDatabaseSpec{ForProvider: glue.CatalogDatabaseParameters{
			Region: b.region(), CatalogID: compose.Ptr(b.spec.AccountID),
			Description: compose.Ptr("Data lake " + b.spec.Name + ": curated log-shipper tables and raw_* crawled tables"),
			Tags:        b.tag.Tags("database"),
		}},
	})
	for _, s := range schema.Sources() {
		b.table(s)
	}
	b.crawlers()
}

// table is the Glue twin of schema.DDL: a Delta Lake table (table_type
// DELTA) at the source's root, which Athena engine 3 reads through its
// _delta_log. The columns and partition keys repeat the log's schema so that
// Glue, Lake Formation and views see it too (Athena user guide,
// "Synchronize Delta Lake metadata": those need Glue's schema to match the
// log's); Athena itself reads the schema from the log.
func (b *builder) table(s *schema.Source) {
	cols := make([]glue.ColumnsParameters, 0, len(s.Columns))
	for _, c := range s.Columns {
		cols = append(cols, glue.ColumnsParameters{Name: compose.Ptr(c.Name), Type: compose.Ptr(c.GlueType()), Comment: comment(c.Description)})
	}
	keys := make([]glue.PartitionKeysParameters, 0, len(s.PartitionKeys))
	for _, c := range s.PartitionKeys {
		keys = append(keys, glue.PartitionKeysParameters{Name: compose.Ptr(c.Name), Type: compose.Ptr(c.GlueType()), Comment: comment(c.Description)})
	}
	params := map[string]*string{}
	for _, p := range schema.TableProperties() {
		params[p.Key] = compose.Ptr(p.Value)
	}
	name := "table-" + s.Name
	b.out.Add(name, &glue.CatalogTable{
		ObjectMeta: b.named(name, s.Name),
		Spec: glue.CatalogTableSpec{ForProvider: glue.CatalogTableParameters{
			Region: b.region(), CatalogID: compose.Ptr(b.spec.AccountID), DatabaseNameSelector: ref("database"),
			Description: compose.Ptr(s.Description), TableType: compose.Ptr("EXTERNAL_TABLE"),
			Parameters: params, PartitionKeys: keys,
			StorageDescriptor: &glue.StorageDescriptorParameters{
				Location: compose.Ptr(schema.TableLocation(s, b.curatedLocation())), Columns: cols,
				InputFormat: compose.Ptr(schema.InputFormat), OutputFormat: compose.Ptr(schema.OutputFormat),
				SerDeInfo: &glue.SerDeInfoParameters{
					SerializationLibrary: compose.Ptr(schema.SerializationLibrary),
					// Spark's Delta reader finds the table by this path.
					Parameters: map[string]*string{"serialization.format": compose.Ptr("1"), "path": compose.Ptr(schema.TableLocation(s, b.curatedLocation()))},
				},
			},
		}},
	})
}

// comment fits a description into Glue's 255-character column comment.
func comment(s string) *string {
	if len(s) > 255 {
		s = s[:252] + "..."
	}
	return compose.Ptr(s)
}

// crawlers compose the role the crawlers run as and one crawler per raw
// prefix. The role reads the raw zones and decrypts with the lake key, so
// it (and the crawlers that select it) wait for the key's ARN.
func (b *builder) crawlers() {
	if b.keyARN == "" {
		b.out.Defer("crawler role and crawlers", "the ARN of key")
		return
	}
	var read []string
	for _, z := range []string{zoneRaw, zoneALB} {
		arn := "arn:aws:s3:::" + b.spec.bucket(z)
		read = append(read, arn, arn+"/*")
	}
	b.out.Add("crawler-role", &iam.Role{
		ObjectMeta: b.meta("crawler-role"),
		Spec: iam.RoleSpec{ForProvider: iam.RoleParameters{
			AssumeRolePolicy:  compose.Ptr(trust("glue.amazonaws.com")),
			ManagedPolicyArns: []*string{compose.Ptr("arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole")},
			InlinePolicy: []iam.InlinePolicyParameters{{Name: compose.Ptr("read-raw"), Policy: compose.Ptr(doc(
				map[string]any{"Sid": "ReadRaw", "Effect": "Allow", "Action": []string{"s3:GetObject", "s3:ListBucket"}, "Resource": read},
				map[string]any{"Sid": "DecryptRaw", "Effect": "Allow", "Action": []string{"kms:Decrypt"}, "Resource": b.keyARN},
			))}},
			Tags: b.tag.Tags("crawler-role"),
		}},
	})
	for _, c := range crawls {
		name := "crawler-" + c.source
		var excl []*string
		for _, e := range c.exclude {
			excl = append(excl, compose.Ptr(e))
		}
		var schedule *string
		if s := b.spec.Catalog.CrawlerSchedule; s != "" {
			schedule = compose.Ptr(s)
		}
		b.out.Add(name, &glue.Crawler{
			ObjectMeta: b.named(name, b.spec.Name+"-raw-"+c.source),
			Spec: glue.CrawlerSpec{ForProvider: glue.CrawlerParameters{
				Region: b.region(), DatabaseNameSelector: ref("database"), RoleSelector: ref("crawler-role"),
				Description: compose.Ptr(fmt.Sprintf("Raw %s logs under s3://%s/%s", c.source, b.spec.bucket(c.zone), c.prefix)),
				S3Target:    []glue.S3TargetParameters{{Path: compose.Ptr("s3://" + b.spec.bucket(c.zone) + "/" + c.prefix), Exclusions: excl}},
				TablePrefix: compose.Ptr("raw_"), Schedule: schedule,
				SchemaChangePolicy: &glue.SchemaChangePolicyParameters{DeleteBehavior: compose.Ptr("LOG"), UpdateBehavior: compose.Ptr("UPDATE_IN_DATABASE")},
				Tags:               b.tag.Tags(name),
			}},
		})
	}
}

// athena composes the workgroup (settings enforced: results encrypted with
// the lake key under athena-results/, a per-query scan cutoff) and one named
// query per log-shipper .sql file.
func (b *builder) athena() error {
	b.out.Add("workgroup", &athena.Workgroup{
		ObjectMeta: b.named("workgroup", b.spec.Name),
		Spec: athena.WorkgroupSpec{ForProvider: athena.WorkgroupParameters{
			Region: b.region(), Description: compose.Ptr("Queries over data lake " + b.spec.Name), State: compose.Ptr("ENABLED"),
			Configuration: &athena.ConfigurationParameters{
				EnforceWorkgroupConfiguration:   compose.Ptr(true),
				PublishCloudwatchMetricsEnabled: compose.Ptr(true),
				BytesScannedCutoffPerQuery:      compose.Ptr(float64(b.spec.Athena.BytesScannedCutoffPerQuery)),
				EngineVersion:                   &athena.EngineVersionParameters{SelectedEngineVersion: compose.Ptr("Athena engine version 3")},
				ResultConfiguration: &athena.ResultConfigurationParameters{
					OutputLocation:      compose.Ptr("s3://" + b.spec.bucket(zoneCurated) + "/" + prefixAthena),
					ExpectedBucketOwner: compose.Ptr(b.spec.AccountID),
					EncryptionConfiguration: &athena.ResultConfigurationEncryptionConfigurationParameters{
						EncryptionOption: compose.Ptr("SSE_KMS"), KMSKeyArnSelector: ref("key"),
					},
				},
			},
			Tags: b.tag.Tags("workgroup"),
		}},
	})
	qs, err := queries.All()
	if err != nil {
		return fmt.Errorf("cannot read log-shipper's named queries: %w", err)
	}
	for _, q := range qs {
		name := queryResource(q.Name)
		var desc *string // Athena refuses an empty description
		if q.Description != "" {
			desc = compose.Ptr(q.Description)
		}
		b.out.Add(name, &athena.NamedQuery{
			ObjectMeta: b.meta(name),
			Spec: athena.NamedQuerySpec{ForProvider: athena.NamedQueryParameters{
				Region: b.region(), Name: compose.Ptr(q.Name), Description: desc,
				Database: compose.Ptr(b.spec.database()), Query: compose.Ptr(q.SQL), WorkgroupSelector: ref("workgroup"),
			}},
		})
	}
	return nil
}

// queryResource is the composed resource name of a named query.
func queryResource(name string) string { return "query-" + strings.ReplaceAll(name, "_", "-") }
