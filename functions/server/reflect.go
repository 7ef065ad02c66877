package server

import (
	"bytes"
	"encoding"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"google.golang.org/protobuf/types/known/structpb"
)

// structEncoder builds protobuf Values straight from Go values with
// go-json-experiment's default semantics, which composed.From relies on:
// omitempty drops values that encode as null, "", {} or []; ",inline"
// flattens; a nil slice is [] and a nil map {}; a nil pointer is null.
// Types with their own JSON or text marshaling (metav1.Time, Quantity...)
// go through go-json-experiment itself. Field plans are cached per type.
type structEncoder struct {
	plans  sync.Map // reflect.Type -> []field
	custom sync.Map // reflect.Type -> bool: marshals itself
}

type field struct {
	name      string
	index     int
	omitEmpty bool
	inline    bool
}

var (
	marshalerV1   = reflect.TypeFor[json.MarshalerV1]()
	marshalerV2   = reflect.TypeFor[json.MarshalerV2]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

func (e *structEncoder) customMarshal(t reflect.Type) bool {
	if c, ok := e.custom.Load(t); ok {
		return c.(bool)
	}
	c := false
	for _, m := range []reflect.Type{marshalerV1, marshalerV2, textMarshaler} {
		c = c || t.Implements(m) || reflect.PointerTo(t).Implements(m)
	}
	e.custom.Store(t, c)
	return c
}

// trivially empty reports, without encoding it, whether a value encodes as
// null, "", {} or [] for the common cases; others are encoded and checked.
func triviallyEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	}
	return false
}

func (e *structEncoder) value(v reflect.Value) (*structpb.Value, error) {
	t := v.Type()
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && e.customMarshal(t) {
		return e.viaJSON(v)
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return structpb.NewNullValue(), nil
		}
		return e.value(v.Elem())
	case reflect.String:
		return structpb.NewStringValue(v.String()), nil
	case reflect.Bool:
		return structpb.NewBoolValue(v.Bool()), nil
	case reflect.Float32, reflect.Float64:
		return structpb.NewNumberValue(v.Float()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return structpb.NewNumberValue(float64(v.Int())), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return structpb.NewNumberValue(float64(v.Uint())), nil
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return e.viaJSON(v) // []byte is base64
		}
		l := &structpb.ListValue{Values: make([]*structpb.Value, 0, v.Len())}
		for i := range v.Len() {
			x, err := e.value(v.Index(i))
			if err != nil {
				return nil, err
			}
			l.Values = append(l.Values, x)
		}
		return structpb.NewListValue(l), nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return e.viaJSON(v)
		}
		s := &structpb.Struct{Fields: make(map[string]*structpb.Value, v.Len())}
		for it := v.MapRange(); it.Next(); {
			x, err := e.value(it.Value())
			if err != nil {
				return nil, err
			}
			s.Fields[it.Key().String()] = x
		}
		return structpb.NewStructValue(s), nil
	case reflect.Struct:
		s := &structpb.Struct{Fields: map[string]*structpb.Value{}}
		if err := e.fields(v, s); err != nil {
			return nil, err
		}
		return structpb.NewStructValue(s), nil
	}
	return nil, fmt.Errorf("cannot encode %s", t)
}

func (e *structEncoder) fields(v reflect.Value, into *structpb.Struct) error {
	for _, f := range e.plan(v.Type()) {
		fv := v.Field(f.index)
		if f.inline {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			if err := e.fields(fv, into); err != nil {
				return err
			}
			continue
		}
		if f.omitEmpty && triviallyEmpty(fv) {
			continue
		}
		x, err := e.value(fv)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if f.omitEmpty && isEmpty(x) {
			continue
		}
		into.Fields[f.name] = x
	}
	return nil
}

func isEmpty(v *structpb.Value) bool {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NullValue:
		return true
	case *structpb.Value_StringValue:
		return k.StringValue == ""
	case *structpb.Value_StructValue:
		return len(k.StructValue.GetFields()) == 0
	case *structpb.Value_ListValue:
		return len(k.ListValue.GetValues()) == 0
	}
	return false
}

func (e *structEncoder) plan(t reflect.Type) []field {
	if p, ok := e.plans.Load(t); ok {
		return p.([]field)
	}
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		f := field{name: name, index: i}
		for _, o := range strings.Split(opts, ",") {
			f.omitEmpty = f.omitEmpty || o == "omitempty"
			f.inline = f.inline || o == "inline"
		}
		if f.name == "" {
			f.name = sf.Name
		}
		out = append(out, f)
	}
	e.plans.Store(t, out)
	return out
}

func (e *structEncoder) viaJSON(v reflect.Value) (*structpb.Value, error) {
	j, err := json.Marshal(v.Interface())
	if err != nil {
		return nil, err
	}
	return decodeValue(jsontext.NewDecoder(bytes.NewReader(j)))
}
