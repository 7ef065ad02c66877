package xpkgs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// StandInProviders pushes, for every provider-aws package reference
// (xpkg.upbound.io/upbound/provider-aws-<svc>:<version>), a package named
// and versioned as pinned whose metadata is rendered from the provider's own
// package/crossplane.yaml.tmpl (SafeStart, depending on
// provider-family-aws at the same version) and whose CRDs are the
// provider's own, for the kinds the platform composes (kinds): all of a
// service's CRDs would put some 1000 CRDs into the API server for nothing.
// The family package carries the ProviderConfig CRDs. providerDir is the
// provider-aws module.
func (r *Registry) StandInProviders(providerDir string, refs []string, kinds map[schema.GroupKind]bool) error {
	tmplText, err := os.ReadFile(filepath.Join(providerDir, "package", "crossplane.yaml.tmpl"))
	if err != nil {
		return fmt.Errorf("provider-aws ships its package metadata template: %w", err)
	}
	tmpl, err := template.New("crossplane.yaml").Parse(string(tmplText))
	if err != nil {
		return err
	}
	crdDir := filepath.Join(providerDir, "package", "crds")
	families := map[string]bool{}
	for _, ref := range refs {
		p, err := name.ParseReference(ref, name.StrictValidation)
		if err != nil {
			return fmt.Errorf("provider package %q: %w", ref, err)
		}
		repo := p.Context().RepositoryStr() // upbound/provider-aws-ec2
		org, pkg, _ := strings.Cut(repo, "/")
		svc, ok := strings.CutPrefix(pkg, "provider-aws-")
		if !ok {
			return fmt.Errorf("%s is not a provider-aws family package; the e2e has no stand-in for it", ref)
		}
		reg := p.Context().RegistryStr() + "/" + org
		meta, err := render(tmpl, pkg, svc, reg, p.Identifier())
		if err != nil {
			return err
		}
		docs := [][]byte{meta}
		group := svc + ".aws.m.upbound.io"
		for gk := range kinds {
			if gk.Group != group {
				continue
			}
			crd, err := findCRD(crdDir, gk)
			if err != nil {
				return err
			}
			docs = append(docs, crd)
		}
		if err := r.PushPackage(ref, docs...); err != nil {
			return err
		}
		families[reg+"/provider-family-aws:"+p.Identifier()] = true
	}
	for ref := range families {
		p, _ := name.ParseReference(ref)
		reg := p.Context().RegistryStr() + "/" + strings.Split(p.Context().RepositoryStr(), "/")[0]
		meta, err := render(tmpl, "provider-family-aws", "config", reg, p.Identifier())
		if err != nil {
			return err
		}
		docs := [][]byte{meta}
		for _, f := range []string{"aws.m.upbound.io_clusterproviderconfigs", "aws.m.upbound.io_providerconfigs", "aws.m.upbound.io_providerconfigusages",
			"aws.upbound.io_providerconfigs", "aws.upbound.io_providerconfigusages"} {
			b, err := os.ReadFile(filepath.Join(crdDir, f+".yaml"))
			if err != nil {
				return err
			}
			docs = append(docs, b)
		}
		if err := r.PushPackage(ref, docs...); err != nil {
			return err
		}
	}
	return nil
}

func render(t *template.Template, pkgName, svc, regOrg, version string) ([]byte, error) {
	var b bytes.Buffer
	err := t.Execute(&b, map[string]string{
		"Name": pkgName, "Service": svc, "ProviderName": "aws", "ProviderAuthGroup": "aws",
		"XpkgRegOrg": regOrg, "DepConstraint": version,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot render %s's package metadata: %w", pkgName, err)
	}
	return b.Bytes(), nil
}

// findCRD reads the CRD of a kind from provider-aws's package/crds, named
// <group>_<plural>.yaml.
func findCRD(dir string, gk schema.GroupKind) ([]byte, error) {
	matches, err := filepath.Glob(filepath.Join(dir, gk.Group+"_*.yaml"))
	if err != nil {
		return nil, err
	}
	needle := []byte("\n    kind: " + gk.Kind + "\n")
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(b, needle) {
			return b, nil
		}
	}
	return nil, fmt.Errorf("provider-aws v2.5.0 has no CRD for %s in %s", gk, dir)
}
