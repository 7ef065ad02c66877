package xpkgs

import (
	"archive/tar"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/unsilo/unsilo/internal/crds"
)

// packageYAML pulls ref from the registry as Crossplane does and returns
// the package.yaml of the layer annotated as the xpkg base layer.
func packageYAML(t *testing.T, r *Registry, ref string) string {
	t.Helper()
	to, err := r.local(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(to)
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 1 || m.Layers[0].Annotations["io.crossplane.xpkg"] != "base" {
		t.Fatalf("%s: want one layer annotated io.crossplane.xpkg=base, got %+v", ref, m.Layers)
	}
	l, err := img.LayerByDigest(m.Layers[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no package.yaml in the layer: %v", ref, err)
		}
		if h.Name == "package.yaml" {
			b, _ := io.ReadAll(tr)
			return string(b)
		}
	}
}

// Stand-in provider packages are named as pinned, carry provider-aws's own
// metadata (SafeStart, the family dependency at the same version) and its
// CRDs for the kinds in use only; the family carries the ProviderConfigs.
func TestStandInProvidersCarryTheProvidersMetadataAndCRDs(t *testing.T) {
	r, err := NewRegistry(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dir, err := crds.Locate(context.Background(), crds.Sources[0])
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[schema.GroupKind]bool{{Group: "ec2.aws.m.upbound.io", Kind: "VPC"}: true, {Group: "s3.aws.m.upbound.io", Kind: "Bucket"}: true}
	if err := r.StandInProviders(filepath.Dir(filepath.Dir(dir)), []string{"xpkg.upbound.io/upbound/provider-aws-ec2:v2.5.0"}, kinds); err != nil {
		t.Fatal(err)
	}
	ec2 := packageYAML(t, r, "xpkg.upbound.io/upbound/provider-aws-ec2:v2.5.0")
	for _, want := range []string{"kind: Provider", "name: provider-aws-ec2", "- SafeStart", "provider: xpkg.upbound.io/upbound/provider-family-aws", `version: "v2.5.0"`, "name: vpcs.ec2.aws.m.upbound.io"} {
		if !strings.Contains(ec2, want) {
			t.Errorf("provider-aws-ec2's package.yaml lacks %q", want)
		}
	}
	if strings.Contains(ec2, "buckets.s3") || strings.Contains(ec2, "subnets.ec2") {
		t.Error("a stand-in carries only its own group's CRDs of the kinds in use")
	}
	fam := packageYAML(t, r, "xpkg.upbound.io/upbound/provider-family-aws:v2.5.0")
	if !strings.Contains(fam, "name: clusterproviderconfigs.aws.m.upbound.io") || strings.Contains(fam, "dependsOn") {
		t.Errorf("the family carries the ProviderConfig CRDs and depends on nothing:\n%.400s", fam)
	}
	if got := Hosts("xpkg.upbound.io/upbound/provider-aws-ec2:v2.5.0", "ghcr.io/unsilo/function-unsilo:v0.1.0", "xpkg.upbound.io/upbound/provider-aws-s3:v2.5.0"); strings.Join(got, ",") != "xpkg.upbound.io,ghcr.io" {
		t.Errorf("Hosts = %v", got)
	}
}
