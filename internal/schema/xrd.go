package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	"sigs.k8s.io/yaml"
)

// xrd is the part of a Crossplane CompositeResourceDefinition that shapes
// the CRD Crossplane generates from it.
type xrd struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Group    string                                        `json:"group"`
		Names    apiextensionsv1.CustomResourceDefinitionNames `json:"names"`
		Scope    string                                        `json:"scope"`
		Versions []struct {
			Name          string `json:"name"`
			Served        bool   `json:"served"`
			Referenceable bool   `json:"referenceable"`
			Schema        *struct {
				OpenAPIV3Schema *apiextensionsv1.JSONSchemaProps `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

// AddXRD registers the CRD Crossplane would generate for a composite
// resource definition (its internal/xcrd, v2.2.0): the XRD's schema plus
// spec.crossplane (or the legacy spec fields) and status.conditions.
func (v *Validator) AddXRD(b []byte) error {
	x := &xrd{}
	if err := yaml.Unmarshal(b, x); err != nil {
		return fmt.Errorf("cannot parse XRD: %w", err)
	}
	if x.Kind != "CompositeResourceDefinition" || !strings.HasPrefix(x.APIVersion, "apiextensions.crossplane.io/") {
		return fmt.Errorf("not a CompositeResourceDefinition: %s %s", x.APIVersion, x.Kind)
	}
	scope := x.Spec.Scope
	if scope == "" {
		scope = "LegacyCluster" // v1 default
		if x.APIVersion == "apiextensions.crossplane.io/v2" {
			scope = "Namespaced"
		}
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	crd.APIVersion, crd.Kind = "apiextensions.k8s.io/v1", "CustomResourceDefinition"
	crd.Name = x.Metadata.Name
	crd.Spec.Group = x.Spec.Group
	crd.Spec.Names = x.Spec.Names
	crd.Spec.Scope = apiextensionsv1.ClusterScoped
	if scope == "Namespaced" {
		crd.Spec.Scope = apiextensionsv1.NamespaceScoped
	}
	for _, ver := range x.Spec.Versions {
		if ver.Schema == nil || ver.Schema.OpenAPIV3Schema == nil {
			return fmt.Errorf("XRD %s version %s has no schema.openAPIV3Schema", x.Metadata.Name, ver.Name)
		}
		s, err := xrSchema(ver.Schema.OpenAPIV3Schema, scope)
		if err != nil {
			return fmt.Errorf("XRD %s version %s: %w", x.Metadata.Name, ver.Name, err)
		}
		crd.Spec.Versions = append(crd.Spec.Versions, apiextensionsv1.CustomResourceDefinitionVersion{
			Name: ver.Name, Served: ver.Served, Storage: ver.Referenceable,
			Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: s},
		})
	}
	if err := validCRD(crd); err != nil {
		return fmt.Errorf("XRD %s: the CRD Crossplane would generate is refused by the API server: %w", x.Metadata.Name, err)
	}
	return v.AddCRD(crd)
}

// validCRD runs the API server's own CRD validation, which is where rule
// cost limits, structural-schema rules and list-type rules are enforced:
// an XRD that breaks them never becomes an API.
func validCRD(crd *apiextensionsv1.CustomResourceDefinition) error {
	c := crd.DeepCopy()
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(c)
	internal := &apiextensions.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(c, internal, nil); err != nil {
		return err
	}
	internal.Name = internal.Spec.Names.Plural + "." + internal.Spec.Group
	if internal.Spec.Names.ListKind == "" {
		internal.Spec.Names.ListKind = internal.Spec.Names.Kind + "List"
	}
	if internal.Spec.Names.Singular == "" {
		internal.Spec.Names.Singular = strings.ToLower(internal.Spec.Names.Kind)
	}
	if errs := apiextensionsvalidation.ValidateCustomResourceDefinition(context.Background(), internal); len(errs) > 0 {
		return errs.ToAggregate()
	}
	return nil
}

// xrSchema mirrors xcrd.genCrdVersion + ForCompositeResource.
func xrSchema(in *apiextensionsv1.JSONSchemaProps, scope string) (*apiextensionsv1.JSONSchemaProps, error) {
	s := in.DeepCopy()
	maxName := int64(63) // the XR name is used as a label value
	if old := s.Properties["metadata"].Properties["name"].MaxLength; old != nil && *old < maxName {
		maxName = *old
	}
	out := &apiextensionsv1.JSONSchemaProps{
		Type:         "object",
		Required:     []string{"spec"},
		Description:  s.Description,
		XValidations: s.XValidations,
		Properties: map[string]apiextensionsv1.JSONSchemaProps{
			"apiVersion": {Type: "string"},
			"kind":       {Type: "string"},
			"metadata": {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
				"name": {Type: "string", MaxLength: &maxName},
			}},
		},
	}
	spec := s.Properties["spec"]
	spec.Type = "object"
	if spec.Properties == nil {
		spec.Properties = map[string]apiextensionsv1.JSONSchemaProps{}
	}
	maps.Copy(spec.Properties, crossplaneSpec(scope))
	out.Properties["spec"] = spec

	status := s.Properties["status"]
	status.Type = "object"
	if status.Properties == nil {
		status.Properties = map[string]apiextensionsv1.JSONSchemaProps{}
	}
	status.Properties["conditions"] = conditions()
	out.Properties["status"] = status
	return out, nil
}

// crossplaneSpec is xcrd.CompositeResourceSpecProps, written as JSON so it
// reads like the CRD it becomes.
func crossplaneSpec(scope string) map[string]apiextensionsv1.JSONSchemaProps {
	ref := `{"type":"object","required":["apiVersion","kind"],"properties":{"apiVersion":{"type":"string"},"name":{"type":"string"},"kind":{"type":"string"}` + map[bool]string{true: `,"namespace":{"type":"string"}`}[scope != "Namespaced"] + `}}`
	props := mustProps(`{
		"compositionRef": {"type":"object","required":["name"],"properties":{"name":{"type":"string"}}},
		"compositionSelector": {"type":"object","required":["matchLabels"],"properties":{"matchLabels":{"type":"object","additionalProperties":{"type":"string"}}}},
		"compositionRevisionRef": {"type":"object","required":["name"],"properties":{"name":{"type":"string"}}},
		"compositionRevisionSelector": {"type":"object","required":["matchLabels"],"properties":{"matchLabels":{"type":"object","additionalProperties":{"type":"string"}}}},
		"compositionUpdatePolicy": {"type":"string","enum":["Automatic","Manual"]},
		"resourceRefs": {"type":"array","x-kubernetes-list-type":"atomic","items":` + ref + `}
	}`)
	if scope == "LegacyCluster" {
		maps.Copy(props, mustProps(`{
			"claimRef": {"type":"object","required":["apiVersion","kind","namespace","name"],"properties":{"apiVersion":{"type":"string"},"kind":{"type":"string"},"namespace":{"type":"string"},"name":{"type":"string"}}},
			"writeConnectionSecretToRef": {"type":"object","required":["name","namespace"],"properties":{"name":{"type":"string"},"namespace":{"type":"string"}}}
		}`))
		return props
	}
	return map[string]apiextensionsv1.JSONSchemaProps{
		"crossplane": {Type: "object", Description: "Configures how Crossplane will reconcile this composite resource", Properties: props},
	}
}

func conditions() apiextensionsv1.JSONSchemaProps {
	return mustProps(`{"c": {"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["type"],
		"items":{"type":"object","required":["lastTransitionTime","reason","status","type"],"properties":{
			"lastTransitionTime":{"type":"string","format":"date-time"},"message":{"type":"string"},"reason":{"type":"string"},
			"status":{"type":"string"},"type":{"type":"string"},"observedGeneration":{"type":"integer","format":"int64"}}}}}`)["c"]
}

func mustProps(j string) map[string]apiextensionsv1.JSONSchemaProps {
	m := map[string]apiextensionsv1.JSONSchemaProps{}
	if err := json.Unmarshal([]byte(j), &m); err != nil {
		panic(err) // a literal above is malformed: a programming error
	}
	return m
}
