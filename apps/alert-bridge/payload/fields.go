package payload

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// A schema is the JSON fields of a Go struct type (Alertmanager's
// webhook.Message, template.Data, template.Alert and Grafana's extras on
// top), found by reflection with encoding/json's rules: tag names,
// embedded structs promoted, a shallower field shadowing a deeper one,
// exact name before a case-insensitive match. decodeObject fills such a
// struct in one pass over the body, with encoding/json's strictness about
// each field's JSON type (FuzzDecodeMatchesEncodingJSON compares the two
// on every input).
//
// Why not json.Unmarshal: it scanned the body twice (validation, then
// decoding) and the alerts again for streaming, and its reflection per
// value made decoding ~20% of the bridge's CPU per webhook.
type schema struct {
	typ    reflect.Type
	exact  map[string]*field
	folded map[string]*field
}

type kind uint8

const (
	kString    kind = iota // string
	kStringPtr             // *string: null and absent told apart
	kKV                    // template.KV
	kTime                  // time.Time, through its UnmarshalJSON
	kUint                  // uint64
	kInt                   // int64
	kRaw                   // json.RawMessage
	kStream                // a fieldDecoder (the alerts stream)
)

type field struct {
	name  string
	index []int
	kind  kind
	typ   reflect.Type
}

// fieldDecoder is a field that decodes its own value (alertStream).
type fieldDecoder interface {
	decodeField(s *scanner, path string) error
}

var (
	kvType      = reflect.TypeFor[template.KV]()
	timeType    = reflect.TypeFor[time.Time]()
	rawType     = reflect.TypeFor[json.RawMessage]()
	decoderType = reflect.TypeFor[fieldDecoder]()
)

func kindOf(t reflect.Type) (kind, bool) {
	switch {
	case t.Implements(decoderType):
		return kStream, true
	case t == kvType:
		return kKV, true
	case t == timeType:
		return kTime, true
	case t == rawType:
		return kRaw, true
	case t.Kind() == reflect.String:
		return kString, true
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String:
		return kStringPtr, true
	case t.Kind() == reflect.Uint64:
		return kUint, true
	case t.Kind() == reflect.Int64:
		return kInt, true
	}
	return 0, false
}

// newSchema lists t's JSON fields. A field of a type the decoder does not
// handle is an error: a new field in Alertmanager's types must be taught
// to it, not silently decoded laxer than encoding/json would.
func newSchema(t reflect.Type) (*schema, error) {
	type cand struct {
		f      field
		depth  int
		tagged bool
	}
	var all []cand
	var walk func(t reflect.Type, index []int, depth int) error
	walk = func(t reflect.Type, index []int, depth int) error {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			idx := append(slices.Clone(index), i)
			ft := sf.Type
			if sf.Anonymous && name == "" {
				st := ft
				if st.Kind() == reflect.Pointer {
					st = st.Elem()
				}
				if st.Kind() == reflect.Struct {
					if err := walk(st, idx, depth+1); err != nil {
						return err
					}
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			tagged := name != ""
			if !tagged {
				name = sf.Name
			}
			all = append(all, cand{field{name: name, index: idx, typ: ft}, depth, tagged})
		}
		return nil
	}
	if err := walk(t, nil, 0); err != nil {
		return nil, err
	}
	// Dominance: per name the shallowest field wins; of several at that
	// depth, the single tagged one, else none (encoding/json drops them).
	byName := map[string][]cand{}
	var order []string
	for _, c := range all {
		if _, ok := byName[c.f.name]; !ok {
			order = append(order, c.f.name)
		}
		byName[c.f.name] = append(byName[c.f.name], c)
	}
	s := &schema{typ: t, exact: map[string]*field{}, folded: map[string]*field{}}
	var fields []*field
	for _, name := range order {
		cs := byName[name]
		minDepth := slices.MinFunc(cs, func(a, b cand) int { return a.depth - b.depth }).depth
		var top []cand
		for _, c := range cs {
			if c.depth == minDepth {
				top = append(top, c)
			}
		}
		if len(top) > 1 {
			top = slices.DeleteFunc(top, func(c cand) bool { return !c.tagged })
			if len(top) != 1 {
				continue
			}
		}
		f := top[0].f
		k, ok := kindOf(f.typ)
		if !ok {
			return nil, fmt.Errorf("%s.%s: JSON field %q of type %s: not supported by the decoder", t, name, name, f.typ)
		}
		f.kind = k
		fields = append(fields, &f)
	}
	// encoding/json orders fields by index sequence; the first of several
	// fields folding to one name takes the case-insensitive match.
	slices.SortFunc(fields, func(a, b *field) int { return slices.Compare(a.index, b.index) })
	for _, f := range fields {
		s.exact[f.name] = f
		if k := foldName([]byte(f.name)); s.folded[k] == nil {
			s.folded[k] = f
		}
	}
	return s, nil
}

func mustSchema[T any]() *schema {
	s, err := newSchema(reflect.TypeFor[T]())
	if err != nil {
		panic(err)
	}
	return s
}

func (s *schema) lookup(key []byte) *field {
	if f := s.exact[string(key)]; f != nil {
		return f
	}
	return s.folded[foldName(key)]
}

// typeError is encoding/json's UnmarshalTypeError in this package's words.
func typeError(path string, want reflect.Type, lit []byte) error {
	got := "string"
	switch lit[0] {
	case '{':
		got = "object"
	case '[':
		got = "array"
	case 't', 'f':
		got = "bool"
	case 'n':
		got = "null"
	case '"':
	default:
		got = "number"
		if len(lit) <= 32 {
			got = "number " + string(lit)
		}
	}
	return &DecodeError{Reason: "malformed JSON", Err: fmt.Errorf("field %q: expected %s, got JSON %s", path, want, got)}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// decodeObject decodes the object at s into v (a pointer to a struct of
// schema sc): null leaves it as it is, anything but an object is a type
// error.
func decodeObject(s *scanner, sc *schema, v reflect.Value, path string) error {
	if c := s.peek(); c != '{' {
		lit := s.value()
		if c == 'n' {
			return nil
		}
		return typeError(path, sc.typ, lit)
	}
	s.next()
	if s.peek() == '}' {
		s.next()
		return nil
	}
	for {
		raw, esc := s.rawString()
		key := raw
		if esc {
			key = unescape(raw)
		}
		s.next() // ':'
		if f := sc.lookup(key); f != nil {
			if err := decodeField(s, f, v.Elem().FieldByIndex(f.index), path); err != nil {
				return err
			}
		} else {
			s.value() // unknown fields are tolerated
		}
		if s.next() == '}' {
			return nil
		}
	}
}

// decodeField decodes field f of the object at parent (a path for errors,
// joined only when there is one: decoding allocates little else).
func decodeField(s *scanner, f *field, v reflect.Value, parent string) error {
	c := s.peek()
	switch f.kind {
	case kStream:
		return v.Interface().(fieldDecoder).decodeField(s, joinPath(parent, f.name))
	case kTime:
		lit := s.value()
		if err := v.Addr().Interface().(*time.Time).UnmarshalJSON(lit); err != nil {
			return &DecodeError{Reason: "malformed JSON", Err: describe(err)}
		}
		return nil
	case kRaw:
		return v.Addr().Interface().(*json.RawMessage).UnmarshalJSON(s.value())
	case kKV:
		return decodeKV(s, v.Addr().Interface().(*template.KV), parent, f.name)
	}
	if c == 'n' {
		s.value()
		if f.kind == kStringPtr {
			v.SetZero()
		}
		return nil
	}
	switch f.kind {
	case kString, kStringPtr:
		if c != '"' {
			return typeError(joinPath(parent, f.name), reflect.TypeFor[string](), s.value())
		}
		str := s.string()
		if f.kind == kString {
			v.SetString(str)
		} else {
			v.Set(reflect.ValueOf(&str))
		}
	case kUint, kInt:
		lit := s.value()
		if c != '-' && (c < '0' || c > '9') {
			return typeError(joinPath(parent, f.name), f.typ, lit)
		}
		if f.kind == kUint {
			n, err := strconv.ParseUint(string(lit), 10, 64)
			if err != nil {
				return typeError(joinPath(parent, f.name), f.typ, lit)
			}
			v.SetUint(n)
		} else {
			n, err := strconv.ParseInt(string(lit), 10, 64)
			if err != nil {
				return typeError(joinPath(parent, f.name), f.typ, lit)
			}
			v.SetInt(n)
		}
	}
	return nil
}

// decodeKV decodes an object of strings into m, adding to a map an
// earlier key of the same name filled (as encoding/json does); null sets
// it to nil, a null value is "".
func decodeKV(s *scanner, m *template.KV, parent, name string) error {
	switch c := s.peek(); c {
	case 'n':
		s.value()
		*m = nil
		return nil
	case '{':
	default:
		return typeError(joinPath(parent, name), kvType, s.value())
	}
	s.next()
	if *m == nil {
		*m = template.KV{}
	}
	if s.peek() == '}' {
		s.next()
		return nil
	}
	for {
		k := s.string()
		s.next() // ':'
		switch c := s.peek(); c {
		case '"':
			(*m)[k] = s.string()
		case 'n':
			s.value()
			(*m)[k] = ""
		default:
			return typeError(joinPath(joinPath(parent, name), k), reflect.TypeFor[string](), s.value())
		}
		if s.next() == '}' {
			return nil
		}
	}
}
