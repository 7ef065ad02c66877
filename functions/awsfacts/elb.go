// Package awsfacts holds AWS facts that are published as tables in AWS's
// documentation rather than in a machine-readable source the platform can
// import, each with where it comes from. The function composes with them
// and verify checks against them.
package awsfacts

// ELBLogAccounts are the Elastic Load Balancing accounts that write access
// logs in the regions opened before August 2022 (Elastic Load Balancing
// User Guide, "Enable access logs", step 2: bucket policy for Regions
// available before August 2022; the same table as terraform-provider-aws's
// aws_elb_service_account). In every other region ELB writes as the service
// principal logdelivery.elasticloadbalancing.amazonaws.com.
var ELBLogAccounts = map[string]string{
	"us-east-1":      "127311923021",
	"us-east-2":      "033677994240",
	"us-west-1":      "027434742980",
	"us-west-2":      "797873946194",
	"af-south-1":     "098369216593",
	"ap-east-1":      "754344448648",
	"ap-south-1":     "718504428378",
	"ap-northeast-1": "582318560864",
	"ap-northeast-2": "600734575887",
	"ap-northeast-3": "383597477331",
	"ap-southeast-1": "114774131450",
	"ap-southeast-2": "783225319266",
	"ap-southeast-3": "589379963580",
	"ca-central-1":   "985666609251",
	"eu-central-1":   "054676820928",
	"eu-west-1":      "156460612806",
	"eu-west-2":      "652711504416",
	"eu-west-3":      "009996457667",
	"eu-south-1":     "635631232127",
	"eu-north-1":     "897822967062",
	"me-south-1":     "076674570225",
	"sa-east-1":      "507241528517",
}

// ELBLogService is the principal ELB writes access logs as in the regions
// opened since August 2022.
const ELBLogService = "logdelivery.elasticloadbalancing.amazonaws.com"

// ELBLogPrincipal is the bucket-policy principal that ELB's access-log
// delivery in region writes as: the account's root ARN or the service.
func ELBLogPrincipal(region string) (aws, service string) {
	if a, ok := ELBLogAccounts[region]; ok {
		return "arn:aws:iam::" + a + ":root", ""
	}
	return "", ELBLogService
}
