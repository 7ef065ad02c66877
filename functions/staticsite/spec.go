// Package staticsite composes the StaticSite API (the seed's WebA): a
// private S3 bucket served only through CloudFront with Origin Access
// Control, HTTPS only, and access logs delivered to the lake.
package staticsite

import (
	"regexp"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/unsilo/unsilo/functions/compose"
)

// Spec mirrors compositions/staticsite/xrd.yaml; defaults repeat the XRD's
// because crossplane render does not apply them.
type Spec struct {
	Region            string            `json:"region"`
	Environment       string            `json:"environment"`
	BucketName        string            `json:"bucketName"`
	DefaultRootObject string            `json:"defaultRootObject"`
	PriceClass        string            `json:"priceClass"`
	Domain            *Domain           `json:"domain,omitempty"`
	AccessLogs        AccessLogs        `json:"accessLogs"`
	Tags              map[string]string `json:"tags,omitempty"`
}

// Domain is an optional custom domain: aliases and their certificate.
type Domain struct {
	Aliases        []string `json:"aliases"`
	CertificateARN string   `json:"certificateArn"`
}

// AccessLogs names the lake bucket and prefix CloudFront writes its
// standard logs to.
type AccessLogs struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
}

var (
	// CloudFront only takes certificates issued in us-east-1.
	cloudFrontCert = regexp.MustCompile(`^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$`)
	bucketName     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	priceClasses   = map[string]bool{"PriceClass_100": true, "PriceClass_200": true, "PriceClass_All": true}
)

func readSpec(xr *resource.Composite) (*Spec, error) {
	s := &Spec{}
	if err := compose.ReadSpec(xr, s); err != nil {
		return nil, err
	}
	compose.Default(&s.Environment, "dev")
	compose.Default(&s.DefaultRootObject, "index.html")
	compose.Default(&s.PriceClass, "PriceClass_100")
	compose.Default(&s.BucketName, xr.Resource.GetNamespace()+"-"+xr.Resource.GetName()+"-site")
	return s, s.validate()
}

func (s *Spec) validate() error {
	if s.Region == "" {
		return compose.Invalid("spec.region", nil, "required")
	}
	if !bucketName.MatchString(s.BucketName) {
		return compose.Invalid("spec.bucketName", s.BucketName, "must be 3-63 lowercase letters, digits and hyphens (the default is <namespace>-<name>-site; set bucketName if that is too long)")
	}
	if !priceClasses[s.PriceClass] {
		return compose.Invalid("spec.priceClass", s.PriceClass, "must be PriceClass_100, PriceClass_200 or PriceClass_All")
	}
	if s.AccessLogs.Bucket == "" {
		return compose.Invalid("spec.accessLogs.bucket", nil, "required: CloudFront access logs go to the lake")
	}
	if d := s.Domain; d != nil {
		if len(d.Aliases) == 0 {
			return compose.Invalid("spec.domain.aliases", nil, "at least one alias is required with a custom domain")
		}
		if !cloudFrontCert.MatchString(d.CertificateARN) {
			return compose.Invalid("spec.domain.certificateArn", d.CertificateARN, "must be an ACM certificate in us-east-1, the only region CloudFront accepts")
		}
	}
	return nil
}
