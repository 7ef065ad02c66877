package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/ko/pkg/build"
)

// cgoTarget is how a cgo program (DuckDB is C++) is built and run on one
// platform: its compilers, its link flags, and the C runtime its image
// carries (none when linked statically).
type cgoTarget struct {
	cc, cxx string
	ldflags []string
	libDir  string   // where the runtime below comes from
	libs    []string // shared libraries the image carries, at /lib/<triple>/
	triple  string
}

// cgoTargets: on amd64 DuckDB and glibc link statically into one binary
// that runs on the empty base. On arm64 a static link overflows the small
// GOT glibc's libc.a is built for (ld: "too many GOT entries for -fpic"),
// so the binary links glibc dynamically and the image carries the C
// runtime of Debian's libc6-arm64-cross and libstdc++6-arm64-cross, the
// same libraries it was linked against (checked by running it under
// qemu-aarch64, images_test.go).
var cgoTargets = map[string]cgoTarget{
	"amd64": {cc: "gcc", cxx: "g++", ldflags: []string{"-s", "-w", "-linkmode=external", "-extldflags=-static"}},
	"arm64": {cc: "aarch64-linux-gnu-gcc", cxx: "aarch64-linux-gnu-g++", ldflags: []string{"-s", "-w", "-linkmode=external", "-extldflags=-static-libgcc"},
		libDir: "/usr/aarch64-linux-gnu/lib", triple: "aarch64-linux-gnu",
		libs: []string{"ld-linux-aarch64.so.1", "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1"}},
}

// cgo programs, built once per platform with that platform's compiler;
// netgo and osusergo keep DNS and user lookups in Go.
var cgo = map[string]bool{"apps/log-shipper": true}

// base is an empty image per platform that runs as nonroot: static Go
// binaries need nothing else, and nothing has to be pulled. runtime, when
// set, adds a C runtime layer (cgoTarget).
func base(platforms []v1.Platform, runtime *cgoTarget) build.GetBase {
	return func(context.Context, string) (name.Reference, build.Result, error) {
		var adds []mutate.IndexAddendum
		for _, p := range platforms {
			env := []string{"SSL_CERT_DIR=/etc/ssl/certs"}
			if runtime != nil && runtime.triple != "" {
				env = append(env, "LD_LIBRARY_PATH=/lib/"+runtime.triple)
			}
			img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
				OS: p.OS, Architecture: p.Architecture,
				Config: v1.Config{User: "65532:65532", Env: env},
			})
			if err != nil {
				return nil, nil, err
			}
			if runtime != nil && len(runtime.libs) > 0 {
				layer, err := libLayer(*runtime)
				if err != nil {
					return nil, nil, err
				}
				if img, err = mutate.AppendLayers(img, layer); err != nil {
					return nil, nil, err
				}
			}
			pl := p
			adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &pl}})
		}
		idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.OCIImageIndex)
		ref, err := name.ParseReference("scratch.invalid/empty:latest")
		return ref, idx, err
	}
}

func builder(ctx context.Context, root, version string, platforms []v1.Platform, c *cgoTarget) (build.Interface, error) {
	var ps []string
	for _, p := range platforms {
		ps = append(ps, p.OS+"/"+p.Architecture)
	}
	cfg := build.Config{}
	if c != nil {
		cfg = build.Config{ID: "cgo", Env: []string{"CGO_ENABLED=1", "CC=" + c.cc, "CXX=" + c.cxx}, Flags: build.FlagArray{"-tags=netgo,osusergo"},
			Ldflags: build.StringArray(c.ldflags)}
	}
	return build.NewGo(ctx, root,
		build.WithBaseImages(base(platforms, c)),
		build.WithPlatforms(ps...),
		build.WithDisabledSBOM(),
		build.WithTrimpath(true),
		build.WithDefaultLdflags([]string{"-s", "-w"}),
		build.WithLabel("org.opencontainers.image.version", version),
		build.WithLabel("org.opencontainers.image.source", "https://github.com/unsilo/unsilo"),
		build.WithConfig(map[string]build.Config{"github.com/unsilo/unsilo/apps/log-shipper": cfg}),
	)
}

// buildOne builds one program for every platform into an image index.
func buildOne(ctx context.Context, root, path, version string, platforms []v1.Platform) (v1.ImageIndex, error) {
	if !cgo[clean(path)] {
		b, err := builder(ctx, root, version, platforms, nil)
		if err != nil {
			return nil, fmt.Errorf("ko: %w", err)
		}
		return buildIndex(ctx, b, path)
	}
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		c, ok := cgoTargets[p.Architecture]
		if !ok {
			return nil, fmt.Errorf("%s: no C toolchain known for %s", path, p.Architecture)
		}
		b, err := builder(ctx, root, version, []v1.Platform{p}, &c)
		if err != nil {
			return nil, fmt.Errorf("ko: %w", err)
		}
		img, err := buildImage(ctx, b, path, p)
		if err != nil {
			return nil, fmt.Errorf("%s for %s/%s: %w", path, p.OS, p.Architecture, err)
		}
		pl := p
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &pl}})
	}
	return mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.OCIImageIndex), nil
}

func buildIndex(ctx context.Context, b build.Interface, path string) (v1.ImageIndex, error) {
	ip, err := b.QualifyImport(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	res, err := b.Build(ctx, ip)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", path, err)
	}
	idx, ok := res.(v1.ImageIndex)
	if !ok {
		return nil, fmt.Errorf("%s: ko built a single image, want an index", path)
	}
	return idx, nil
}

// libLayer packs the shared libraries of a C runtime at /lib/<triple>/, and
// the dynamic loader where the binary asks for it (/lib/<name>).
func libLayer(c cgoTarget) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"lib/", "lib/" + c.triple + "/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			return nil, err
		}
	}
	for _, l := range c.libs {
		b, err := os.ReadFile(filepath.Join(c.libDir, l)) // follows the symlink to the versioned file
		if err != nil {
			return nil, fmt.Errorf("the C runtime for %s: %w (install tools/images/apt-packages.txt)", c.triple, err)
		}
		dst := "lib/" + c.triple + "/" + l
		if strings.HasPrefix(l, "ld-linux") {
			dst = "lib/" + l
		}
		if err := tw.WriteHeader(&tar.Header{Name: dst, Mode: 0o755, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
}

// buildImage builds one program for one platform (ko returns the image
// itself, or an index of one).
func buildImage(ctx context.Context, b build.Interface, path string, p v1.Platform) (v1.Image, error) {
	ip, err := b.QualifyImport(path)
	if err != nil {
		return nil, err
	}
	res, err := b.Build(ctx, ip)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", path, err)
	}
	switch r := res.(type) {
	case v1.Image:
		return r, nil
	case v1.ImageIndex:
		return forPlatform(r, p)
	}
	return nil, fmt.Errorf("%s: ko built a %T", path, res)
}

// forPlatform picks one platform's image out of an index.
func forPlatform(idx v1.ImageIndex, p v1.Platform) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.OS == p.OS && d.Platform.Architecture == p.Architecture {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("no %s/%s image in the index", p.OS, p.Architecture)
}

func parsePlatforms(s string) ([]v1.Platform, error) {
	var out []v1.Platform
	for _, f := range strings.Split(s, ",") {
		p, err := v1.ParsePlatform(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, nil
}

func run(ctx context.Context, o options, paths []string) error {
	if len(paths) == 0 {
		return fmt.Errorf("usage: images [flags] ./apps/rag-api ./functions ...")
	}
	platforms, err := parsePlatforms(o.platforms)
	if err != nil {
		return err
	}
	var lp layout.Path
	if o.out != "" {
		if lp, err = layout.Write(o.out, empty.Index); err != nil {
			return err
		}
	}
	for _, p := range paths {
		tag := o.tags[clean(p)]
		if tag == "" {
			tag = o.version
		}
		short := imageName(p)
		ref, err := reference(o.repo + "/" + short + ":" + tag)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if o.push && !(o.skipFunction && short == "function-unsilo") {
			if ok, err := present(ref); err != nil {
				return err
			} else if ok {
				fmt.Printf("%s %s (already published)\n", p, ref)
				continue
			}
		}
		idx, err := buildOne(ctx, o.root, p, tag, platforms)
		if err != nil {
			return err
		}
		d, err := idx.Digest()
		if err != nil {
			return err
		}
		if o.out != "" {
			if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref.String()})); err != nil {
				return fmt.Errorf("write %s to %s: %w", p, o.out, err)
			}
		}
		if o.tarballs != "" && short == "function-unsilo" {
			if err := os.MkdirAll(o.tarballs, 0o755); err != nil {
				return err
			}
			for _, pl := range platforms {
				img, err := forPlatform(idx, pl)
				if err != nil {
					return err
				}
				file := filepath.Join(o.tarballs, short+"-"+pl.Architecture+".tar")
				if err := tarball.WriteToFile(file, ref.Context().Tag(tag), img); err != nil {
					return fmt.Errorf("%s: %w", file, err)
				}
			}
		}
		if o.push && !(o.skipFunction && short == "function-unsilo") {
			if err := pushIndex(ref, idx); err != nil {
				return err
			}
		}
		fmt.Printf("%s %s@%s\n", p, ref, d)
	}
	return nil
}
