package policy

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Shared is the part of the input that every composed resource of one XR
// sees (the XR and the list of its composed resources), converted to OPA's
// values once. Without it each evaluation converted the whole list again,
// through a JSON round trip: O(n²) in an XR's resources and most of
// verify's CPU time.
type Shared struct {
	xr, composed ast.Value
}

// Share converts what an XR's evaluations have in common.
func Share(xr map[string]any, refs []Ref) (*Shared, error) {
	s := &Shared{}
	var err error
	if xr != nil {
		if s.xr, err = ast.InterfaceToValue(xr); err != nil {
			return nil, fmt.Errorf("cannot convert the XR for the policies: %w", err)
		}
	}
	if len(refs) > 0 {
		list := make([]any, len(refs))
		for i, r := range refs {
			m := map[string]any{"apiVersion": r.APIVersion, "kind": r.Kind, "name": r.Name}
			if len(r.Resource) > 0 {
				m["resource"] = r.Resource
			}
			list[i] = m
		}
		if s.composed, err = ast.InterfaceToValue(list); err != nil {
			return nil, fmt.Errorf("cannot convert the composed resources for the policies: %w", err)
		}
	}
	return s, nil
}

// value is the input as OPA sees it: the JSON form of Input (field names
// and omitempty as its tags say), built without a JSON round trip.
func (in Input) value() (ast.Value, error) {
	shared := in.Shared
	if shared == nil {
		var err error
		if shared, err = Share(in.XR, in.Composed); err != nil {
			return nil, err
		}
	}
	res, err := ast.InterfaceToValue(in.Resource)
	if err != nil {
		return nil, fmt.Errorf("cannot convert the resource for the policies: %w", err)
	}
	obj := ast.NewObject(
		ast.Item(ast.StringTerm("resource"), ast.NewTerm(res)),
		ast.Item(ast.StringTerm("source"), ast.StringTerm(in.Source)),
	)
	if shared.xr != nil {
		obj.Insert(ast.StringTerm("xr"), ast.NewTerm(shared.xr))
	}
	if shared.composed != nil {
		obj.Insert(ast.StringTerm("composed"), ast.NewTerm(shared.composed))
	}
	if in.Schema != nil {
		obj.Insert(ast.StringTerm("schema"), ast.ObjectTerm(
			ast.Item(ast.StringTerm("taggable"), ast.BooleanTerm(in.Schema.Taggable)),
			ast.Item(ast.StringTerm("regional"), ast.BooleanTerm(in.Schema.Regional)),
		))
	}
	return obj, nil
}
