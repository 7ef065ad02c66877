package datalake

import (
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composite"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Names are what a DataLake's AWS resources are called, derived from its
// spec as Compose derives them, for whoever must name them before they
// exist: an environment's settings (clusters/<env>/settings), which unsilo
// verify checks against these.
type Names struct {
	Name          string // the workgroup's, the trail's
	RawBucket     string
	ALBBucket     string
	CuratedBucket string
	FlowLogsPath  string // bucket/prefix VPC Flow Logs deliver to
	CuratedURL    string // log-shipper's --out
	Database      string // Glue
	Firehose      string // WAF's delivery stream
	IngestQueue   string // log-shipper watch's SQS queue
}

// NamesOf derives the names of the DataLake u.
func NamesOf(u *unstructured.Unstructured) (Names, error) {
	c := composite.New()
	c.Object = u.Object
	s, err := readSpec(&resource.Composite{Resource: c})
	if err != nil {
		return Names{}, err
	}
	return Names{
		Name:          s.Name,
		RawBucket:     s.bucket(zoneRaw),
		ALBBucket:     s.bucket(zoneALB),
		CuratedBucket: s.bucket(zoneCurated),
		FlowLogsPath:  s.bucket(zoneRaw) + "/" + prefixVPCFlow,
		CuratedURL:    "s3://" + s.bucket(zoneCurated) + "/" + curatedRoot + "/",
		Database:      s.database(),
		Firehose:      s.firehoseName(),
		IngestQueue:   s.queueName(),
	}, nil
}
