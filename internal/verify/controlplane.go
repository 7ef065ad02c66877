package verify

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/catalog"
)

// platformAccount is the AWS account of the platform's control plane (the
// Cluster in catalog.PlatformFile): its Crossplane provider creates every
// XR's resources, so every log service writes as that account.
func platformAccount(root string) (string, error) {
	objs, err := catalog.Platform(root)
	if err != nil {
		return "", err
	}
	for _, o := range objs {
		if o.GetKind() == "Cluster" {
			a, _, _ := unstructured.NestedString(o.Object, "spec", "accountId")
			return a, nil
		}
	}
	return "", nil
}
