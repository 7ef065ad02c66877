package server

import (
	"testing"

	"github.com/crossplane/function-sdk-go/resource/composed"
	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestToStruct: what server-side apply would misread never reaches
// Crossplane (empty initProvider, empty metadata, a zero generation), the
// kind is set from the scheme, and unstructured kinds pass through.
func TestToStruct(t *testing.T) {
	if err := ec2.AddToScheme(composed.Scheme); err != nil {
		t.Fatal(err)
	}
	region := "ap-northeast-2"
	s, err := toStruct(&ec2.SecurityGroupIngressRule{Spec: ec2.SecurityGroupIngressRuleSpec{ForProvider: ec2.SecurityGroupIngressRuleParameters{Region: &region}}})
	if err != nil {
		t.Fatal(err)
	}
	m := s.AsMap()
	if m["apiVersion"] != "ec2.aws.m.upbound.io/v1beta1" || m["kind"] != "SecurityGroupIngressRule" {
		t.Errorf("kind not set from the scheme: %v %v", m["apiVersion"], m["kind"])
	}
	if _, ok := m["metadata"]; ok {
		t.Errorf("empty metadata sent as %v: server-side apply would clear labels", m["metadata"])
	}
	spec := m["spec"].(map[string]any)
	if _, ok := spec["initProvider"]; ok {
		t.Error("an empty initProvider is an opinion server-side apply would claim")
	}
	if spec["forProvider"].(map[string]any)["region"] != region {
		t.Errorf("forProvider = %v", spec["forProvider"])
	}
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "protection.crossplane.io/v1beta1", "kind": "Usage", "spec": map[string]any{"replayDeletion": true}}}
	s, err = toStruct(u)
	if err != nil || s.AsMap()["kind"] != "Usage" {
		t.Errorf("unstructured: %v %v", s, err)
	}
}
