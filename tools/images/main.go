// Command images builds the OCI images of the platform's Go programs with
// ko's build library, for linux/amd64 and linux/arm64 (the clusters' nodes
// are arm64, CI and laptops mostly amd64): no Docker daemon, no base image
// download. The base is an empty image (the binaries are static). Images go
// to an OCI image layout on disk (--out), to a registry (--push), and, for
// the function, to one docker tarball per platform that
// `crossplane xpkg build --embed-runtime-image-tarball` takes (--tarballs).
//
//	images [flags] ./functions ./apps/rag-api ...   build (and push)
//	images exists REF                               exit 0 if REF is in its registry
//
// Its own module: ko's dependencies (sigstore, registries) stay out of the
// platform's go.mod.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "exists" {
		os.Exit(exists(os.Args[2:]))
	}
	var o options
	flag.StringVar(&o.root, "root", ".", "the repository root (the module ko builds in)")
	flag.StringVar(&o.out, "out", "", "write every image into this OCI image layout")
	flag.StringVar(&o.tarballs, "tarballs", "", "write the function's image for each platform as <dir>/function-unsilo-<arch>.tar")
	flag.StringVar(&o.repo, "repo", "ghcr.io/unsilo", "image repository prefix: <repo>/<name>:<tag>")
	flag.StringVar(&o.version, "version", "dev", "tag of every program without a --tag")
	flag.Var(&o.tags, "tag", "PATH=TAG: the tag of one program (from `unsilo artifacts`); repeatable")
	flag.StringVar(&o.platforms, "platforms", "linux/amd64,linux/arm64", "platforms to build")
	flag.BoolVar(&o.push, "push", false, "push to --repo; a tag already there is left alone (tags are published once)")
	flag.BoolVar(&o.skipFunction, "skip-push-function", true, "do not push the function's plain image (it is published as its Crossplane package, which embeds it)")
	flag.Parse()
	if err := run(context.Background(), o, flag.Args()); err != nil {
		slog.Error("images", "err", err)
		os.Exit(1)
	}
}

type options struct {
	root, out, tarballs, repo, version, platforms string
	tags                                          tagFlags
	push, skipFunction                            bool
}

type tagFlags map[string]string

func (t *tagFlags) String() string { return fmt.Sprint(map[string]string(*t)) }

func (t *tagFlags) Set(v string) error {
	p, tag, ok := strings.Cut(v, "=")
	if !ok || tag == "" {
		return errors.New("want PATH=TAG")
	}
	if *t == nil {
		*t = map[string]string{}
	}
	(*t)[clean(p)] = tag
	return nil
}

func clean(p string) string { return strings.TrimPrefix(strings.TrimSuffix(p, "/"), "./") }

// imageName names an import path's image: functions -> function-unsilo,
// apps/rag-api -> rag-api.
func imageName(p string) string {
	p = clean(p)
	if p == "functions" {
		return "function-unsilo"
	}
	return p[strings.LastIndex(p, "/")+1:]
}
