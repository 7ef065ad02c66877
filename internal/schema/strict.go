package schema

import (
	"encoding/json"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8sjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// strictDecoder checks built-in kinds by decoding them into their Go types
// with strict field checking, which is what the API server's
// fieldValidation=Strict reports for them.
type strictDecoder struct {
	scheme *runtime.Scheme
	codec  runtime.Decoder
}

func newStrictDecoder() *strictDecoder {
	s := clientgoscheme.Scheme
	return &strictDecoder{
		scheme: s,
		codec:  k8sjson.NewSerializerWithOptions(k8sjson.DefaultMetaFactory, s, s, k8sjson.SerializerOptions{Strict: true}),
	}
}

func (d *strictDecoder) known(gvk schema.GroupVersionKind) bool {
	return d.scheme.Recognizes(gvk)
}

var unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)

func (d *strictDecoder) validate(u *unstructured.Unstructured) []Finding {
	b, err := json.Marshal(u.Object)
	if err != nil {
		return []Finding{{Path: "", Reason: err.Error()}}
	}
	var out []Finding
	_, _, err = d.codec.Decode(b, nil, nil)
	switch {
	case err == nil:
	case runtime.IsStrictDecodingError(err):
		for _, m := range unknownField.FindAllStringSubmatch(err.Error(), -1) {
			out = append(out, Finding{Path: m[1], Reason: "unknown field: the schema has no such field (a typo, or a field of another API version?)"})
		}
		if len(out) == 0 {
			out = append(out, Finding{Reason: err.Error()})
		}
	default:
		out = append(out, Finding{Reason: strings.TrimSpace(err.Error())})
	}
	return append(out, fromFieldErrors(metadata(u, u.GetNamespace() != ""))...)
}
