// Package knowledgebase composes the KnowledgeBase API: the Kendra index
// rag-api retrieves from (KMS-encrypted, user-context ACLs), its data
// sources (S3, Google Drive, web crawler, Gmail) with schedules and
// languages, and the Bedrock access rag-api needs: a role allowed to call
// only the listed models, bound to rag-api's service account by EKS Pod
// Identity.
package knowledgebase

import (
	"cmp"
	"fmt"
	"regexp"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/controlplane"
)

// Spec mirrors compositions/knowledgebase/xrd.yaml.
type Spec struct {
	// ControlPlaneRef is the Cluster whose Crossplane provider creates
	// this XR's roles, within that Cluster's permissions boundary
	// (default platform/tools).
	ControlPlaneRef controlplane.Ref  `json:"controlPlaneRef"`
	Region          string            `json:"region"`
	Environment     string            `json:"environment"`
	Edition         string            `json:"edition"`
	DefaultLanguage string            `json:"defaultLanguage"`
	Sources         Sources           `json:"sources"`
	Bedrock         Bedrock           `json:"bedrock"`
	PodIdentity     *PodIdentity      `json:"podIdentity,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
}

// Sources are the repositories Kendra crawls.
type Sources struct {
	S3          *S3Source     `json:"s3,omitempty"`
	GoogleDrive *SecretSource `json:"googleDrive,omitempty"`
	Gmail       *SecretSource `json:"gmail,omitempty"`
	WebCrawler  *WebSource    `json:"webCrawler,omitempty"`
}

// Common is what every source has.
type Common struct {
	Language string `json:"language"`
	Schedule string `json:"schedule"`
}

// S3Source is a docs bucket.
type S3Source struct {
	Common
	Bucket   string   `json:"bucket"`
	Prefixes []string `json:"prefixes"`
}

// SecretSource is a SaaS connector whose credentials live in Secrets Manager.
type SecretSource struct {
	Common
	SecretARN string `json:"secretArn"`
}

// WebSource is an intranet site.
type WebSource struct {
	Common
	SeedURLs []string `json:"seedUrls"`
	Depth    int      `json:"depth"`
}

// Bedrock is what rag-api may invoke.
type Bedrock struct {
	ModelARNs    []string `json:"modelArns"`
	GuardrailARN string   `json:"guardrailArn,omitempty"`
}

// PodIdentity binds rag-api's service account to the role.
type PodIdentity struct {
	ClusterRef struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"clusterRef"`
	// Region is the Cluster's region when that Cluster XR lives on another
	// control plane (the environment's management cluster) and so cannot
	// be fetched: the EKS name is still derived from clusterRef.
	Region         string `json:"region,omitempty"`
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
}

var (
	guardrailARN = regexp.MustCompile(`^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:guardrail/[a-z0-9]+$`)
	secretARN    = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$`)
	modelARN     = regexp.MustCompile(`^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d*:(foundation-model|inference-profile|application-inference-profile)/[^*?]+$`)
	languages    = map[string]bool{"ko": true, "en": true, "ja": true}
)

func readSpec(xr *resource.Composite) (*Spec, error) {
	s := &Spec{}
	if err := compose.ReadSpec(xr, s); err != nil {
		return nil, err
	}
	compose.Default(&s.Environment, "dev")
	compose.Default(&s.Edition, "ENTERPRISE_EDITION")
	compose.Default(&s.DefaultLanguage, "ko")
	for _, c := range s.commons() {
		if c.Language == "" {
			c.Language = s.DefaultLanguage
		}
		if c.Schedule == "" {
			c.Schedule = "cron(0 18 * * ? *)" // 03:00 KST, after the working day
		}
	}
	if p := s.PodIdentity; p != nil {
		p.Namespace = cmp.Or(p.Namespace, "knowledge")
		p.ServiceAccount = cmp.Or(p.ServiceAccount, "rag-api")
	}
	if w := s.Sources.WebCrawler; w != nil && w.Depth == 0 {
		w.Depth = 2
	}
	return s, s.validate()
}

func (s *Spec) commons() map[string]*Common {
	out := map[string]*Common{}
	if x := s.Sources.S3; x != nil {
		out["spec.sources.s3"] = &x.Common
	}
	if x := s.Sources.GoogleDrive; x != nil {
		out["spec.sources.googleDrive"] = &x.Common
	}
	if x := s.Sources.Gmail; x != nil {
		out["spec.sources.gmail"] = &x.Common
	}
	if x := s.Sources.WebCrawler; x != nil {
		out["spec.sources.webCrawler"] = &x.Common
	}
	return out
}

func (s *Spec) validate() error {
	if s.Region == "" {
		return compose.Invalid("spec.region", nil, "required")
	}
	if s.Environment == "prod" && s.Edition == "DEVELOPER_EDITION" {
		return compose.Invalid("spec.edition", s.Edition, "the developer edition has no SLA and caps documents; prod needs ENTERPRISE_EDITION or GEN_AI_ENTERPRISE_EDITION")
	}
	if p := s.PodIdentity; p != nil && p.ClusterRef.Name == "" {
		return compose.Invalid("spec.podIdentity.clusterRef.name", nil, "required: the Cluster XR rag-api runs on")
	}
	if len(s.commons()) == 0 {
		return compose.Invalid("spec.sources", nil, "at least one source (s3, googleDrive, gmail, webCrawler)")
	}
	for field, c := range s.commons() {
		if !languages[c.Language] {
			return compose.Invalid(field+".language", c.Language, "must be ko, en or ja")
		}
	}
	for field, src := range map[string]*SecretSource{"spec.sources.googleDrive": s.Sources.GoogleDrive, "spec.sources.gmail": s.Sources.Gmail} {
		if src != nil && !secretARN.MatchString(src.SecretARN) {
			return compose.Invalid(field+".secretArn", src.SecretARN, "must be a Secrets Manager secret ARN holding the connector's OAuth credentials")
		}
	}
	if x := s.Sources.S3; x != nil && x.Bucket == "" {
		return compose.Invalid("spec.sources.s3.bucket", nil, "required")
	}
	if x := s.Sources.WebCrawler; x != nil && len(x.SeedURLs) == 0 {
		return compose.Invalid("spec.sources.webCrawler.seedUrls", nil, "at least one seed URL")
	}
	if len(s.Bedrock.ModelARNs) == 0 {
		return compose.Invalid("spec.bedrock.modelArns", nil, "list the model or inference profile ARNs rag-api may invoke")
	}
	for i, m := range s.Bedrock.ModelARNs {
		if !modelARN.MatchString(m) {
			return compose.Invalid(fmt.Sprintf("spec.bedrock.modelArns[%d]", i), m, "must be one Bedrock foundation-model or inference-profile ARN, without wildcards")
		}
	}
	if g := s.Bedrock.GuardrailARN; g != "" && !guardrailARN.MatchString(g) {
		return compose.Invalid("spec.bedrock.guardrailArn", g, "must be a Bedrock guardrail ARN (arn:aws:bedrock:REGION:ACCOUNT:guardrail/ID)")
	}
	return nil
}
