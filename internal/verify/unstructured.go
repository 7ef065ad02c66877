package verify

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

func unstructuredString(obj map[string]any, path ...string) (string, bool, error) {
	return unstructured.NestedString(obj, path...)
}
