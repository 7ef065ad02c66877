// Package schema validates Kubernetes objects offline the way kube-apiserver
// judges a create: the CRD's structural schema with defaulting, unknown
// fields (as fieldValidation=Strict), OpenAPI value validation, CEL
// x-kubernetes-validations and metadata rules; core kinds by strict decoding
// into their Go types. CRDs come from files (provider and Crossplane modules)
// and from Crossplane XRDs, converted as Crossplane does.
package schema

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// Finding is one reason the API server would refuse an object.
type Finding struct {
	Path   string // e.g. spec.forProvider.cidrBlock
	Reason string
}

func (f Finding) String() string { return f.Path + ": " + f.Reason }

// Validator holds CRDs by group and kind, compiled on first use.
type Validator struct {
	mu     sync.Mutex
	crds   map[schema.GroupKind]*entry
	strict *strictDecoder
}

// entry is one CRD: loaded lazily from a file or given directly.
type entry struct {
	file     string
	crd      *apiextensionsv1.CustomResourceDefinition
	versions map[string]*compiled
	err      error
}

type compiled struct {
	namespaced bool
	served     bool
	structural *structuralschema.Structural
	openapi    validation.SchemaValidator
	cel        *cel.Validator
}

// New returns a Validator that knows the built-in Kubernetes kinds.
func New() *Validator {
	return &Validator{crds: map[schema.GroupKind]*entry{}, strict: newStrictDecoder()}
}

// AddCRD registers a CRD, replacing any earlier one for the same kind.
func (v *Validator) AddCRD(crd *apiextensionsv1.CustomResourceDefinition) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	gk := schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}
	if gk.Group == "" || gk.Kind == "" {
		return fmt.Errorf("CRD %q has no spec.group or spec.names.kind", crd.GetName())
	}
	v.crds[gk] = &entry{crd: crd}
	return nil
}

// Known reports whether objects of this apiVersion and kind can be checked.
func (v *Validator) Known(apiVersion, kind string) bool {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return false
	}
	if v.strict.known(gv.WithKind(kind)) {
		return true
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.crds[schema.GroupKind{Group: gv.Group, Kind: kind}]
	return ok
}

// Validate returns what the API server would object to, sorted by path.
func (v *Validator) Validate(obj *unstructured.Unstructured) []Finding {
	gvk := obj.GroupVersionKind()
	if gvk.Kind == "" || gvk.Version == "" {
		return []Finding{{Path: "apiVersion", Reason: "apiVersion and kind are required"}}
	}
	if v.strict.known(gvk) {
		return sorted(v.strict.validate(obj))
	}
	c, err := v.lookup(gvk)
	if err != nil {
		return []Finding{{Path: "apiVersion", Reason: err.Error()}}
	}
	return sorted(c.validate(obj.DeepCopy().Object))
}

func (v *Validator) lookup(gvk schema.GroupVersionKind) (*compiled, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.crds[gvk.GroupKind()]
	if !ok {
		return nil, fmt.Errorf("no CRD or schema known for kind %s in group %q: is the provider or XRD that defines it loaded?", gvk.Kind, gvk.Group)
	}
	if e.versions == nil && e.err == nil {
		e.versions, e.err = compile(e)
	}
	if e.err != nil {
		return nil, e.err
	}
	c, ok := e.versions[gvk.Version]
	if !ok || !c.served {
		var served []string
		for name, c := range e.versions {
			if c.served {
				served = append(served, name)
			}
		}
		sort.Strings(served)
		return nil, fmt.Errorf("version %s of %s is not served; served versions: %s", gvk.Version, gvk.GroupKind(), strings.Join(served, ", "))
	}
	return c, nil
}

func (c *compiled) validate(obj map[string]any) []Finding {
	var out []Finding
	for _, p := range structuralpruning.PruneWithOptions(obj, c.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		out = append(out, Finding{Path: p, Reason: "unknown field: the schema has no such field (a typo, or a field of another API version?)"})
	}
	structuraldefaulting.Default(obj, c.structural)

	u := &unstructured.Unstructured{Object: obj}
	errs := metadata(u, c.namespaced)
	errs = append(errs, objectmeta.Validate(nil, obj, c.structural, true)...)
	errs = append(errs, validation.ValidateCustomResource(nil, obj, c.openapi)...)
	if c.cel != nil {
		celErrs, _ := c.cel.Validate(context.Background(), nil, c.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	return append(out, fromFieldErrors(errs)...)
}

// metadata checks what the API server checks of every object's metadata.
// Composed resources carry generateName instead of a name.
func metadata(u *unstructured.Unstructured, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	md := field.NewPath("metadata")
	switch {
	case u.GetName() != "":
		for _, msg := range metavalidation.NameIsDNSSubdomain(u.GetName(), false) {
			errs = append(errs, field.Invalid(md.Child("name"), u.GetName(), msg))
		}
	case u.GetGenerateName() != "":
		for _, msg := range metavalidation.NameIsDNSSubdomain(u.GetGenerateName(), true) {
			errs = append(errs, field.Invalid(md.Child("generateName"), u.GetGenerateName(), msg))
		}
	default:
		errs = append(errs, field.Required(md.Child("name"), "name or generateName is required"))
	}
	if namespaced && u.GetNamespace() == "" {
		errs = append(errs, field.Required(md.Child("namespace"), "the kind is namespaced"))
	}
	if !namespaced && u.GetNamespace() != "" {
		errs = append(errs, field.Invalid(md.Child("namespace"), u.GetNamespace(), "the kind is cluster-scoped and takes no namespace"))
	}
	return errs
}

func fromFieldErrors(errs field.ErrorList) []Finding {
	out := make([]Finding, 0, len(errs))
	for _, e := range errs {
		out = append(out, Finding{Path: strings.TrimPrefix(e.Field, "<nil>."), Reason: e.ErrorBody()})
	}
	return out
}

func sorted(fs []Finding) []Finding {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
	return fs
}

// compile converts each version's schema the way the API server does.
func compile(e *entry) (map[string]*compiled, error) {
	if e.crd == nil {
		crd, err := readCRD(e.file)
		if err != nil {
			return nil, err
		}
		e.crd = crd
	}
	internal := &apiextensions.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(e.crd, internal, nil); err != nil {
		return nil, fmt.Errorf("cannot convert CRD %s: %w", e.crd.GetName(), err)
	}
	out := map[string]*compiled{}
	for _, ver := range internal.Spec.Versions {
		props := internal.Spec.Validation
		if ver.Schema != nil {
			props = ver.Schema
		}
		if props == nil || props.OpenAPIV3Schema == nil {
			return nil, fmt.Errorf("CRD %s version %s has no schema", e.crd.GetName(), ver.Name)
		}
		s, err := structuralschema.NewStructural(props.OpenAPIV3Schema)
		if err != nil {
			return nil, fmt.Errorf("CRD %s version %s: not a structural schema: %w", e.crd.GetName(), ver.Name, err)
		}
		ov, _, err := validation.NewSchemaValidator(props.OpenAPIV3Schema)
		if err != nil {
			return nil, fmt.Errorf("CRD %s version %s: %w", e.crd.GetName(), ver.Name, err)
		}
		out[ver.Name] = &compiled{
			namespaced: internal.Spec.Scope == apiextensions.NamespaceScoped,
			served:     ver.Served,
			structural: s,
			openapi:    ov,
			cel:        cel.NewValidator(s, true, celconfig.PerCallLimit),
		}
	}
	return out, nil
}

// Default applies the schema's defaults to obj in place, as the API server
// does on create.
func (v *Validator) Default(obj *unstructured.Unstructured) error {
	c, err := v.lookup(obj.GroupVersionKind())
	if err != nil {
		return err
	}
	structuraldefaulting.Default(obj.Object, c.structural)
	return nil
}

// HasProperty reports whether the schema of gvk declares the field at path,
// e.g. spec.forProvider.tags: policies ask it whether a kind can be tagged.
func (v *Validator) HasProperty(gvk schema.GroupVersionKind, path ...string) bool {
	c, err := v.lookup(gvk)
	if err != nil {
		return false
	}
	s := c.structural
	for _, p := range path {
		next, ok := s.Properties[p]
		if !ok {
			return false
		}
		s = &next
	}
	return true
}

// CRD returns the CRD that defines gk, parsing it if it was only indexed.
func (v *Validator) CRD(gk schema.GroupKind) (*apiextensionsv1.CustomResourceDefinition, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.crds[gk]
	if !ok {
		return nil, fmt.Errorf("no CRD known for %s", gk)
	}
	if e.crd == nil {
		crd, err := readCRD(e.file)
		if err != nil {
			return nil, err
		}
		e.crd = crd
	}
	return e.crd, nil
}
