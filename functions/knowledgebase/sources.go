package knowledgebase

import (
	"encoding/json"

	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"
	kendra "github.com/upbound/provider-aws/v2/apis/namespaced/kendra/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// sources composes one data source per configured repository, each with
// its own role scoped to what that connector reads.
func (b *builder) sources() {
	if _, ok := b.out.Resources["index"]; !ok {
		return // data sources need the index
	}
	s := b.spec.Sources
	if x := s.S3; x != nil {
		arn := "arn:aws:s3:::" + x.Bucket
		var prefixes []*string
		for _, p := range x.Prefixes {
			prefixes = append(prefixes, compose.Ptr(p))
		}
		b.source("s3", "S3", x.Common, &kendra.ConfigurationParameters{S3Configuration: &kendra.S3ConfigurationParameters{
			BucketName: compose.Ptr(x.Bucket), InclusionPrefixes: prefixes,
		}}, map[string]any{"Sid": "ReadDocs", "Effect": "Allow", "Action": []string{"s3:GetObject", "s3:ListBucket"}, "Resource": []string{arn, arn + "/*"}})
	}
	if x := s.GoogleDrive; x != nil {
		b.source("google-drive", "TEMPLATE", x.Common, b.template("GOOGLEDRIVEV2", x.SecretARN), b.readSecret(x.SecretARN))
	}
	if x := s.Gmail; x != nil {
		// Kendra's Gmail connector exists only in the template form.
		b.source("gmail", "TEMPLATE", x.Common, b.template("GMAIL", x.SecretARN), b.readSecret(x.SecretARN))
	}
	if x := s.WebCrawler; x != nil {
		var seeds []*string
		for _, u := range x.SeedURLs {
			seeds = append(seeds, compose.Ptr(u))
		}
		b.source("web-crawler", "WEBCRAWLER", x.Common, &kendra.ConfigurationParameters{WebCrawlerConfiguration: &kendra.WebCrawlerConfigurationParameters{
			CrawlDepth: compose.Ptr(float64(x.Depth)), MaxContentSizePerPageInMegaBytes: compose.Ptr(10.0),
			Urls: &kendra.UrlsParameters{SeedURLConfiguration: &kendra.SeedURLConfigurationParameters{SeedUrls: seeds, WebCrawlerMode: compose.Ptr("HOST_ONLY")}},
		}}, nil)
	}
}

func (b *builder) readSecret(arn string) map[string]any {
	return map[string]any{"Sid": "ConnectorCredentials", "Effect": "Allow", "Action": []string{"secretsmanager:GetSecretValue"}, "Resource": arn}
}

// template is a template-configured connector (Google Drive, Gmail) with
// its ACLs crawled, so Kendra filters by the users who may open each item.
func (b *builder) template(kind, secret string) *kendra.ConfigurationParameters {
	t, _ := json.Marshal(map[string]any{ // a literal map always marshals
		"type": kind, "secretArn": secret, "syncMode": "FULL_CRAWL", "enableIdentityCrawler": true,
		"connectionConfiguration":  map[string]any{"repositoryEndpointMetadata": map[string]any{}},
		"repositoryConfigurations": map[string]any{},
		"additionalProperties":     map[string]any{"isCrawlAcl": true, "maxFileSizeInMegaBytes": "50"},
	})
	return &kendra.ConfigurationParameters{TemplateConfiguration: &kendra.TemplateConfigurationParameters{Template: compose.Ptr(string(t))}}
}

func (b *builder) source(name, typ string, c Common, cfg *kendra.ConfigurationParameters, read map[string]any) {
	role := "source-" + name + "-role"
	index := b.req.AtProvider("index", "arn") // sources are composed once the index exists
	statements := []map[string]any{{"Sid": "IndexDocuments", "Effect": "Allow", "Action": []string{"kendra:BatchPutDocument", "kendra:BatchDeleteDocument"}, "Resource": index}}
	if typ == "TEMPLATE" {
		// Template connectors crawl ACLs (isCrawlAcl, the identity crawler):
		// they write each user's and group's memberships into the index.
		statements = append(statements, map[string]any{"Sid": "MapPrincipals", "Effect": "Allow", "Resource": index, "Action": []string{
			"kendra:PutPrincipalMapping", "kendra:DeletePrincipalMapping", "kendra:ListGroupsOlderThanOrderingId", "kendra:DescribePrincipalMapping",
		}})
	}
	if read != nil {
		statements = append(statements, read)
	}
	b.out.Add(role, &iam.Role{
		ObjectMeta: compose.Meta(b.req.XR, role, nil),
		Spec: iam.RoleSpec{ForProvider: iam.RoleParameters{
			AssumeRolePolicy: compose.Ptr(trust("kendra.amazonaws.com", "sts:AssumeRole")),
			InlinePolicy:     []iam.InlinePolicyParameters{{Name: compose.Ptr("connector"), Policy: compose.Ptr(doc(statements...))}},
			Tags:             b.tag.Tags(role),
		}},
	})
	ds := "source-" + name
	b.out.Add(ds, &kendra.DataSource{
		ObjectMeta: compose.Meta(b.req.XR, ds, nil),
		Spec: kendra.DataSourceSpec{ForProvider: kendra.DataSourceParameters{
			Region: b.region(), Name: compose.Ptr(compose.Name(b.req.XR, ds)), Type: compose.Ptr(typ),
			IndexIDSelector: ref("index"), RoleArnSelector: ref(role),
			LanguageCode: compose.Ptr(c.Language), Schedule: compose.Ptr(c.Schedule),
			Configuration: cfg, Tags: b.tag.Tags(ds),
		}},
	})
}
