package verify

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/render"
	"github.com/unsilo/unsilo/internal/verify/iampolicy"
)

// convergedXR is one XR's converged render, kept for the checks that look
// across XRs (a Network's flow logs land in a DataLake's bucket).
type convergedXR struct {
	xr  manifest.Object
	out *render.Output
}

// bucketFacts is what AWS would know of one bucket the repository
// composes when a log service writes to it.
type bucketFacts struct {
	name, region, owner string // owner: the composing XR
	policy              *iampolicy.Policy
	policyErr           error
	ownership           string // BucketOwnershipControls objectOwnership
	kms                 bool   // SSE-KMS default encryption
	keyPolicy           *iampolicy.Policy
	keyPolicyErr        error
}

// component is the composition resource name a same-XR selector picks.
func component(cd *unstructured.Unstructured, selector string) string {
	s, _, _ := unstructured.NestedString(cd.Object, "spec", "forProvider", selector, "matchLabels", "platform.unsilo.dev/component")
	return s
}

// indexBuckets finds every composed S3 bucket by its AWS name, with its
// policy, ownership and default encryption (and that key's policy).
func indexBuckets(all []convergedXR) map[string]*bucketFacts {
	out := map[string]*bucketFacts{}
	for _, c := range all {
		byComponent := map[string]*unstructured.Unstructured{}
		for i := range c.out.Composed {
			cd := &c.out.Composed[i]
			byComponent[cd.GetAnnotations()[render.AnnotationResourceName]] = cd
		}
		facts := map[string]*bucketFacts{} // by bucket component
		for comp, cd := range byComponent {
			if cd.GetKind() != "Bucket" || !isGroup(cd, "s3.") {
				continue
			}
			name := cd.GetAnnotations()["crossplane.io/external-name"]
			if name == "" {
				continue // a generated name nothing can point a log service at
			}
			f := &bucketFacts{name: name, region: nested(cd, "spec", "forProvider", "region"), owner: c.xr.ID()}
			facts[comp] = f
			out[name] = f
		}
		for _, cd := range byComponent {
			f := facts[component(cd, "bucketSelector")]
			if f == nil || !isGroup(cd, "s3.") {
				continue
			}
			switch cd.GetKind() {
			case "BucketPolicy":
				f.policy, f.policyErr = iampolicy.ParseString(nested(cd, "spec", "forProvider", "policy"))
			case "BucketOwnershipControls":
				f.ownership = nested(cd, "spec", "forProvider", "rule", "objectOwnership")
			case "BucketServerSideEncryptionConfiguration":
				rules, _, _ := unstructured.NestedSlice(cd.Object, "spec", "forProvider", "rule")
				for _, r := range rules {
					m, _ := r.(map[string]any)
					def, _ := m["applyServerSideEncryptionByDefault"].(map[string]any)
					if def["sseAlgorithm"] != "aws:kms" && def["sseAlgorithm"] != "aws:kms:dsse" {
						continue
					}
					f.kms = true
					if key := bucketKey(def, byComponent); key != nil {
						f.keyPolicy, f.keyPolicyErr = iampolicy.ParseString(nested(key, "spec", "forProvider", "policy"))
					}
				}
			}
		}
	}
	return out
}

// bucketKey is the KMS key a bucket's default encryption names: by a
// selector of a sibling, or by ARN (kmsMasterKeyId, as the DataLake sets
// it from the key AWS created), which is then the XR's one KMS key.
func bucketKey(def map[string]any, byComponent map[string]*unstructured.Unstructured) *unstructured.Unstructured {
	sel, _ := def["kmsMasterKeyIdSelector"].(map[string]any)
	labels, _ := sel["matchLabels"].(map[string]any)
	if key, ok := byComponent[str(labels["platform.unsilo.dev/component"])]; ok {
		return key
	}
	if str(def["kmsMasterKeyId"]) == "" {
		return nil
	}
	var key *unstructured.Unstructured
	for _, cd := range byComponent {
		if isGroup(cd, "kms.") && cd.GetKind() == "Key" {
			if key != nil {
				return nil // more than one: the ARN alone does not tell which
			}
			key = cd
		}
	}
	return key
}

func isGroup(cd *unstructured.Unstructured, prefix string) bool {
	v := cd.GetAPIVersion()
	return len(v) >= len(prefix) && v[:len(prefix)] == prefix
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
