package server

import (
	"fmt"
	"reflect"

	"github.com/crossplane/function-sdk-go/resource/composed"
	"github.com/go-json-experiment/json/jsontext"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/runtime"
)

// toStruct converts a typed resource to the protobuf Struct Crossplane
// receives, with the same result as composed.From then resource.AsStruct
// (TestToStructMatchesSDK): go-json-experiment's semantics, which omit empty
// non-pointer structs such as initProvider: {} that server-side apply would
// read as an opinion, but without the JSON round trip through a map, which
// was most of the function's CPU time (BenchmarkRunFunction).
func toStruct(enc *structEncoder, o runtime.Object) (*structpb.Struct, error) {
	// Kinds without Go types (e.g. Crossplane's Usage) come as unstructured.
	if u, ok := o.(runtime.Unstructured); ok {
		return structpb.NewStruct(u.UnstructuredContent())
	}
	gvks, _, err := composed.Scheme.ObjectKinds(o)
	if err != nil {
		return nil, fmt.Errorf("type not registered by its API's AddToScheme: %w", err)
	}
	o.GetObjectKind().SetGroupVersionKind(gvks[0])
	v, err := enc.value(reflect.ValueOf(o))
	if err != nil {
		return nil, err
	}
	s := v.GetStructValue()
	if s == nil {
		return nil, fmt.Errorf("%T did not marshal to a JSON object", o)
	}
	// As composed.From: go-json-experiment keeps ObjectMeta.Generation's
	// zero, and an empty metadata would mean "clear it" to server-side apply.
	if m := s.Fields["metadata"].GetStructValue(); m != nil {
		delete(m.Fields, "generation")
		if len(m.Fields) == 0 {
			delete(s.Fields, "metadata")
		}
	}
	return s, nil
}

func decodeValue(d *jsontext.Decoder) (*structpb.Value, error) {
	tok, err := d.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case '{':
		s := &structpb.Struct{Fields: map[string]*structpb.Value{}}
		for d.PeekKind() != '}' {
			k, err := d.ReadToken()
			if err != nil {
				return nil, err
			}
			key := k.String() // the token is void once the decoder moves on
			v, err := decodeValue(d)
			if err != nil {
				return nil, err
			}
			s.Fields[key] = v
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		return structpb.NewStructValue(s), nil
	case '[':
		l := &structpb.ListValue{}
		for d.PeekKind() != ']' {
			v, err := decodeValue(d)
			if err != nil {
				return nil, err
			}
			l.Values = append(l.Values, v)
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		return structpb.NewListValue(l), nil
	case '"':
		return structpb.NewStringValue(tok.String()), nil
	case '0':
		return structpb.NewNumberValue(tok.Float()), nil
	case 't', 'f':
		return structpb.NewBoolValue(tok.Bool()), nil
	case 'n':
		return structpb.NewNullValue(), nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}
