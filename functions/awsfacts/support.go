package awsfacts

import "time"

// Support is when AWS ends standard support of a version: past it, the
// resource runs on paid extended support and is later upgraded by AWS.
type Support struct {
	StandardUntil string // YYYY-MM-DD
	Source        string
}

// EKSVersions are the EKS Kubernetes versions the platform may pin, with
// the end of standard support from the EKS version calendar (Amazon EKS
// User Guide, Kubernetes version lifecycle: 14 months of standard support,
// then 12 of extended support billed per cluster hour).
var EKSVersions = map[string]Support{
	"1.33": {"2026-07-29", "EKS Kubernetes version calendar"},
	"1.34": {"2026-12-02", "EKS Kubernetes version calendar"},
	"1.35": {"2027-03-27", "EKS Kubernetes version calendar"},
}

// RDSMySQLMajors are the RDS for MySQL major versions the platform may
// pin, with the RDS end of standard support (RDS User Guide, Supported
// MySQL major versions on Amazon RDS; new instances of a version past it
// are enrolled in paid RDS Extended Support).
var RDSMySQLMajors = map[string]Support{
	"8.0": {"2026-07-31", "RDS for MySQL major version calendar"},
	"8.4": {"2029-07-31", "RDS for MySQL major version calendar"},
}

// Ends parses a Support's date.
func (s Support) Ends() time.Time {
	t, err := time.Parse(time.DateOnly, s.StandardUntil)
	if err != nil {
		panic("awsfacts: bad date " + s.StandardUntil) // the tables are constants
	}
	return t
}
