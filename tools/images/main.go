// Command images builds the OCI images of the platform's Go programs with
// ko's build library: no Docker daemon, no registry, no base image download.
// The base is an empty image (the binaries are static), the result goes to
// an OCI image layout on disk and, for the function, also to a docker
// tarball that `crossplane xpkg build --embed-runtime-image-tarball` takes.
//
// Its own module: ko's dependencies (sigstore, registries) stay out of the
// platform's go.mod.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/ko/pkg/build"
	"github.com/google/ko/pkg/publish"
)

func main() {
	root := flag.String("root", ".", "the repository root (the module ko builds in)")
	out := flag.String("out", "out/images", "OCI image layout directory")
	version := flag.String("version", "dev", "image tag (from git describe)")
	repo := flag.String("repo", "ghcr.io/unsilo", "image repository prefix the tags name")
	tarballFor := flag.String("tarball", "functions", "import path (relative) also written as a docker tarball <out>/<name>.tar")
	flag.Parse()
	if err := run(context.Background(), *root, *out, *version, *repo, *tarballFor, flag.Args()); err != nil {
		slog.Error("images", "err", err)
		os.Exit(1)
	}
}

// base is an empty linux/amd64 image that runs as nonroot: static Go
// binaries need nothing else, and nothing has to be pulled.
func base(context.Context, string) (name.Reference, build.Result, error) {
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		OS: "linux", Architecture: "amd64",
		Config: v1.Config{User: "65532:65532", Env: []string{"SSL_CERT_DIR=/etc/ssl/certs"}},
	})
	if err != nil {
		return nil, nil, err
	}
	ref, err := name.ParseReference("scratch.invalid/empty:latest")
	return ref, img, err
}

func run(ctx context.Context, root, out, version, repo, tarballFor string, paths []string) error {
	if len(paths) == 0 {
		return fmt.Errorf("usage: images [flags] ./apps/rag-api ./functions ...")
	}
	b, err := build.NewGo(ctx, root,
		build.WithBaseImages(base),
		build.WithPlatforms("linux/amd64"),
		build.WithDisabledSBOM(),
		build.WithTrimpath(true),
		build.WithDefaultLdflags([]string{"-s", "-w"}),
		build.WithLabel("org.opencontainers.image.version", version),
		build.WithLabel("org.opencontainers.image.source", "https://github.com/unsilo/unsilo"),
		build.WithConfig(map[string]build.Config{
			// DuckDB is C++: log-shipper links it and libc statically (netgo
			// and osusergo keep DNS and user lookups in Go), so it too runs
			// on the empty base.
			"github.com/unsilo/unsilo/apps/log-shipper": {
				ID: "log-shipper", Env: []string{"CGO_ENABLED=1"},
				Flags:   build.FlagArray{"-tags=netgo,osusergo"},
				Ldflags: build.StringArray{"-s", "-w", "-linkmode=external", "-extldflags=-static"},
			},
		}),
	)
	if err != nil {
		return fmt.Errorf("ko: %w", err)
	}
	pub := publish.NewLayout(out)
	for _, p := range paths {
		ip, err := b.QualifyImport(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		res, err := b.Build(ctx, ip)
		if err != nil {
			return fmt.Errorf("build %s: %w", p, err)
		}
		short := imageName(p)
		tag, err := name.NewTag(repo + "/" + short + ":" + version)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if _, err := pub.Publish(ctx, res, tag.String()); err != nil {
			return fmt.Errorf("write %s to %s: %w", p, out, err)
		}
		d, _ := res.Digest()
		fmt.Printf("%s %s@%s\n", p, tag, d)
		if strings.TrimPrefix(p, "./") == tarballFor {
			img, ok := res.(v1.Image)
			if !ok {
				return fmt.Errorf("%s: not a single-platform image", p)
			}
			file := filepath.Join(out, short+".tar")
			if err := tarball.WriteToFile(file, tag, img); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
		}
	}
	return nil
}

// imageName names an import path's image: functions -> function-unsilo,
// apps/rag-api -> rag-api.
func imageName(p string) string {
	p = strings.TrimPrefix(strings.TrimSuffix(p, "/"), "./")
	if p == "functions" {
		return "function-unsilo"
	}
	return filepath.Base(p)
}
