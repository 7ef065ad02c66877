package datalake

import (
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/unsilo/unsilo/functions/compose/composetest"
)

// TestNamesOf: the names an environment's settings must carry are the
// external names Compose gives the same DataLake's resources.
func TestNamesOf(t *testing.T) {
	res := converged(t)
	n, err := NamesOf(&composetest.XR("DataLake", "platform", "lake", base()).Resource.Unstructured)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[resource.Name]string{
		"raw-bucket": n.RawBucket, "alb-bucket": n.ALBBucket, "curated-bucket": n.CuratedBucket,
		"database": n.Database, "workgroup": n.Name, "ingest-queue": n.IngestQueue,
	} {
		o, ok := res.Resources[key]
		if !ok {
			t.Fatalf("Compose made no %s", key)
		}
		m, ok := o.(metav1.Object)
		if !ok {
			t.Fatalf("%s has no object metadata", key)
		}
		if got := m.GetAnnotations()["crossplane.io/external-name"]; got != want {
			t.Errorf("%s: Compose names it %q, NamesOf %q", key, got, want)
		}
	}
	if n.Firehose != "aws-waf-logs-"+n.Name {
		t.Errorf("Firehose %q: WAF logs only to streams named aws-waf-logs-*", n.Firehose)
	}
}
