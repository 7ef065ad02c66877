//go:build e2e

package fakeaws_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/unsilo/unsilo/e2e/controlplane"
	"github.com/unsilo/unsilo/e2e/fakeaws"
	"github.com/unsilo/unsilo/functions/network"
	"github.com/unsilo/unsilo/internal/crds"
)

// The simulated provider runs provider-aws's own reference resolver (a
// Subnet's vpcIdRef becomes the VPC's AWS id), reports Ready with
// atProvider filled, fails with an AWS error code on demand and recovers
// when the fault is lifted, and deletes.
func TestSimulatedProviderResolvesReferencesFailsAndRecovers(t *testing.T) {
	bins := controlplane.Binaries{Etcd: os.Getenv("ETCD_BIN"), APIServer: os.Getenv("KUBE_APISERVER_BIN")}
	if bins.Etcd == "" || bins.APIServer == "" {
		t.Fatal("set ETCD_BIN and KUBE_APISERVER_BIN (make e2e does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cp, err := controlplane.Start(ctx, log, bins, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()
	c, err := cp.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := crds.Locate(ctx, crds.Sources[0])
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range []string{"aws.m.upbound.io_clusterproviderconfigs", "ec2.aws.m.upbound.io_vpcs", "ec2.aws.m.upbound.io_subnets"} {
		files = append(files, filepath.Join(dir, f+".yaml"))
	}
	if err := c.ApplyCRDFiles(ctx, files...); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := (network.API{}).AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := fakeaws.RegisterResolverTypes((network.API{}).AddToScheme); err != nil {
		t.Fatal(err)
	}
	aws := fakeaws.New(log, fakeaws.Options{Poll: time.Second})
	vpcGVK := schema.GroupVersionKind{Group: "ec2.aws.m.upbound.io", Version: "v1beta1", Kind: "VPC"}
	subnetGVK := vpcGVK.GroupVersion().WithKind("Subnet")
	if err := aws.Start(ctx, cp.Config, scheme); err != nil {
		t.Fatal(err)
	}
	if err := aws.Serve(vpcGVK, subnetGVK); err != nil {
		t.Fatal(err)
	}

	apply := func(o map[string]any) {
		t.Helper()
		if err := c.Apply(ctx, &unstructured.Unstructured{Object: o}, false); err != nil {
			t.Fatal(err)
		}
	}
	apply(map[string]any{"apiVersion": "aws.m.upbound.io/v1beta1", "kind": "ClusterProviderConfig", "metadata": map[string]any{"name": "default"},
		"spec": map[string]any{"credentials": map[string]any{"source": "PodIdentity"}}})
	apply(map[string]any{"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "VPC",
		"metadata": map[string]any{"name": "shop", "namespace": "default", "labels": map[string]any{"crossplane.io/composite": "shop"}},
		"spec":     map[string]any{"forProvider": map[string]any{"region": "ap-northeast-2", "cidrBlock": "10.30.0.0/16"}}})
	apply(map[string]any{"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "Subnet",
		"metadata": map[string]any{"name": "shop-a", "namespace": "default", "labels": map[string]any{"crossplane.io/composite": "shop"},
			"annotations": map[string]any{"crossplane.io/composition-resource-name": "subnet-public-a"}},
		"spec": map[string]any{"forProvider": map[string]any{"region": "ap-northeast-2", "cidrBlock": "10.30.0.0/20", "availabilityZone": "ap-northeast-2a",
			"vpcIdRef": map[string]any{"name": "shop"}}}})

	vpc := waitCond(t, ctx, c, "VPC", "shop", "Ready", "True", "")
	vpcID, _, _ := unstructured.NestedString(vpc.Object, "status", "atProvider", "id")
	if !strings.HasPrefix(vpcID, "vpc-") || len(vpcID) != len("vpc-")+17 {
		t.Errorf("a VPC id is vpc- and 17 hex digits, as EC2 assigns; got %q", vpcID)
	}
	subnet := waitCond(t, ctx, c, "Subnet", "shop-a", "Ready", "True", "")
	if got, _, _ := unstructured.NestedString(subnet.Object, "spec", "forProvider", "vpcId"); got != vpcID {
		t.Errorf("provider-aws's resolver must set the Subnet's vpcId from vpcIdRef to the VPC's id %q, got %q", vpcID, got)
	}
	if arn, _, _ := unstructured.NestedString(subnet.Object, "status", "atProvider", "arn"); !strings.HasPrefix(arn, "arn:aws:ec2:ap-northeast-2:123456789012:subnet/subnet-") {
		t.Errorf("Subnet ARN shaped as EC2's: %q", arn)
	}

	// A create that AWS refuses: the AWS code and message on Synced.
	m := fakeaws.Match{Kind: "Subnet", Composite: "shop", Resource: "subnet-public-b"}
	aws.Inject(m, fakeaws.Fault{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation.", Status: 403})
	apply(map[string]any{"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "Subnet",
		"metadata": map[string]any{"name": "shop-b", "namespace": "default", "labels": map[string]any{"crossplane.io/composite": "shop"},
			"annotations": map[string]any{"crossplane.io/composition-resource-name": "subnet-public-b"}},
		"spec": map[string]any{"forProvider": map[string]any{"region": "ap-northeast-2", "cidrBlock": "10.30.16.0/20", "availabilityZone": "ap-northeast-2b",
			"vpcIdRef": map[string]any{"name": "shop"}}}})
	waitCond(t, ctx, c, "Subnet", "shop-b", "Synced", "False", "api error UnauthorizedOperation: You are not authorized to perform this operation.")
	aws.Lift(m)
	waitCond(t, ctx, c, "Subnet", "shop-b", "Ready", "True", "")

	if err := c.Delete(ctx, "ec2.aws.m.upbound.io/v1beta1", "Subnet", "default", "shop-b"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for aws.Count("Subnet") != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("deleting the Subnet must delete it in AWS: %d subnets left", aws.Count("Subnet"))
		}
		time.Sleep(200 * time.Millisecond) // polling the simulated account
	}
}

func waitCond(t *testing.T, ctx context.Context, c *controlplane.Client, kind, name, typ, status, msg string) *unstructured.Unstructured {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last any
	for time.Now().Before(deadline) {
		u, err := c.Get(ctx, "ec2.aws.m.upbound.io/v1beta1", kind, "default", name)
		if err == nil {
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			last = conds
			for _, x := range conds {
				m := x.(map[string]any)
				if m["type"] == typ && m["status"] == status && strings.Contains(fmecho(m["message"]), msg) {
					return u
				}
			}
		}
		time.Sleep(200 * time.Millisecond) // polling the resource's conditions
	}
	t.Fatalf("%s %s: no %s=%s %q within a minute; conditions %v", kind, name, typ, status, msg, last)
	return nil
}

func fmecho(v any) string { s, _ := v.(string); return s }
