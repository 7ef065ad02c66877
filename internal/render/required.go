package render

import (
	"fmt"
	"sort"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// fetch answers the function's resource requirements from the resources
// the caller made available, as crossplane render's --required-resources.
func fetch(req *fnv1.Requirements, avail []unstructured.Unstructured) (map[string]*fnv1.Resources, error) {
	if len(req.GetResources()) == 0 {
		return nil, nil
	}
	out := make(map[string]*fnv1.Resources, len(req.GetResources()))
	for key, sel := range req.GetResources() {
		rs := &fnv1.Resources{}
		matches := make([]unstructured.Unstructured, 0)
		for _, a := range avail {
			if a.GetAPIVersion() != sel.GetApiVersion() || a.GetKind() != sel.GetKind() {
				continue
			}
			if sel.Namespace != nil && a.GetNamespace() != sel.GetNamespace() {
				continue
			}
			switch {
			case sel.GetMatchName() != "":
				if a.GetName() != sel.GetMatchName() {
					continue
				}
			case sel.GetMatchLabels() != nil:
				if !labels.SelectorFromSet(sel.GetMatchLabels().GetLabels()).Matches(labels.Set(a.GetLabels())) {
					continue
				}
			}
			matches = append(matches, a)
		}
		sort.Slice(matches, func(i, j int) bool { return matches[i].GetName() < matches[j].GetName() })
		for _, m := range matches {
			s, err := structpb.NewStruct(m.Object)
			if err != nil {
				return nil, fmt.Errorf("cannot convert required %s %q: %w", m.GetKind(), m.GetName(), err)
			}
			rs.Items = append(rs.Items, &fnv1.Resource{Resource: s})
		}
		out[key] = rs
	}
	return out, nil
}

func sameKeys(a, b map[string]*fnv1.Resources) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}
