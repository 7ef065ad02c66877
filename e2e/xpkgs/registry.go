// Package xpkgs serves Crossplane packages to Crossplane core from an OCI
// registry on loopback (go-containerregistry's pkg/registry), reached under
// the names the manifests pin (ghcr.io/..., xpkg.upbound.io/...) through the
// e2e proxy: the Function and Configuration that `make package` built, and
// stand-in provider-aws packages carrying the provider's own v2.5.0 CRDs.
// It also stands in for the kubelet of the package runtimes the e2e runs as
// local processes (runtime.go).
package xpkgs

import (
	"archive/tar"
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is an in-memory OCI registry; every host the proxy maps to it
// shares one namespace of repository paths.
type Registry struct {
	h    http.Handler
	ln   net.Listener
	srv  *http.Server
	host string // 127.0.0.1:port, where the test pushes
}

// NewRegistry starts the registry on a loopback port.
func NewRegistry(log *slog.Logger) (*Registry, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := registry.New(registry.Logger(slog.NewLogLogger(log.Handler(), slog.LevelDebug)))
	r := &Registry{h: h, ln: ln, srv: &http.Server{Handler: h}, host: ln.Addr().String()}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Handler serves the registry API (for the proxy's named hosts).
func (r *Registry) Handler() http.Handler { return r.h }

// Close stops the registry.
func (r *Registry) Close() error { return r.srv.Close() }

// local turns ref's registry into the loopback one (plain HTTP, as
// go-containerregistry uses for loopback addresses).
func (r *Registry) local(ref string) (name.Reference, error) {
	parsed, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("package reference %q: %w", ref, err)
	}
	repo := parsed.Context().RepositoryStr()
	return name.ParseReference(r.host+"/"+repo+":"+parsed.Identifier(), name.Insecure)
}

// PushFile pushes an .xpkg file (crossplane xpkg build's tarball) as ref.
func (r *Registry) PushFile(xpkg, ref string) error {
	img, err := tarball.ImageFromPath(xpkg, nil)
	if err != nil {
		return fmt.Errorf("cannot read package %s: %w", xpkg, err)
	}
	return r.push(img, ref)
}

func (r *Registry) push(img v1.Image, ref string) error {
	to, err := r.local(ref)
	if err != nil {
		return err
	}
	if err := remote.Write(to, img); err != nil {
		return fmt.Errorf("cannot push %s: %w", ref, err)
	}
	return nil
}

// PushPackage builds a package image whose one layer holds package.yaml
// (the meta object followed by the objects, e.g. CRDs), annotated as
// Crossplane's xpkg base layer, and pushes it as ref.
func (r *Registry) PushPackage(ref string, docs ...[]byte) error {
	var stream bytes.Buffer
	for _, d := range docs {
		stream.WriteString("---\n")
		stream.Write(bytes.TrimPrefix(bytes.TrimSpace(d), []byte("---\n")))
		stream.WriteString("\n")
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	if err := tw.WriteHeader(&tar.Header{Name: "package.yaml", Mode: 0o644, Size: int64(stream.Len())}); err != nil {
		return err
	}
	if _, err := tw.Write(stream.Bytes()); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	l := static.NewLayer(layer.Bytes(), types.DockerLayer)
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: l, Annotations: map[string]string{"io.crossplane.xpkg": "base"}})
	if err != nil {
		return err
	}
	return r.push(img, ref)
}

// Hosts are the registries named by refs, for the proxy to map here.
func Hosts(refs ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, ref := range refs {
		p, err := name.ParseReference(ref)
		if err != nil {
			continue
		}
		h := strings.ToLower(p.Context().RegistryStr())
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}
