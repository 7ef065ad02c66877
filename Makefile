# unsilo: `make demo` renders the platform and shows what it would create;
# `make test` runs every check CI runs. `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# CLIs and servers built from source are cached outside the clone, keyed by
# version (see tools/build.sh), so a warm run rebuilds nothing.
UNSILO_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/unsilo
export UNSILO_CACHE
BIN := $(CURDIR)/bin
GO ?= go
GOTESTSUM := $(BIN)/gotestsum
# Every Go test run goes through gotestsum with a JSON record in RESULTS, so
# `make test` can end with one summary line over all of them. Use it as
#   $(call gotestsum,NAME) go-test-args...
RESULTS := $(CURDIR)/out/test-results
gotestsum = $(shell mkdir -p $(RESULTS))$(GOTESTSUM) --format pkgname-and-test-fails --jsonfile $(RESULTS)/$(1).json --

# Each app adds its own targets in apps/<app>/app.mk and appends to these.
TEST_TARGETS :=
DEMO_TARGETS :=
-include $(wildcard apps/*/app.mk)

.PHONY: help
help:
	@echo "make demo     render the example platform and print the plan"
	@echo "make check    the inner loop (about two minutes warm): short unit, policy and golden tests + verify"
	@echo "make test     everything CI runs: lint, tree checks, unit + policy tests, fidelity with the real crossplane CLI, verify, e2e$(if $(TEST_TARGETS), + $(TEST_TARGETS))"
	@echo "make lint     golangci-lint (pinned in tools/golangci-lint) and go mod tidy drift of every module"
	@echo "make verify   validate, render and policy-check everything (bin/unsilo verify)"
	@echo "make golden   refresh the golden renders next to the examples"
	@echo "make images   OCI images for amd64+arm64 (ko, OCI layout in out/images); make package: Function + Configuration .xpkg"
	@echo "make publish REGISTRY=ghcr.io/unsilo   push images and packages under their content tags (unsilo artifacts)"
	@echo "make bench    Go benchmarks of the function"
	@echo "make plan-diff BASE=main   markdown of the AWS changes since BASE (the PR comment)"
	@echo "make e2e      the platform on one machine: Argo CD syncs dev into a real API server, Crossplane composes with the function, simulated AWS"
	@echo "make tools    build the pinned CLIs and servers into bin/ (cached in ~/.cache/unsilo)"

## Tools ---------------------------------------------------------------

TOOLS := crossplane promtool amtool gotestsum etcd kube-apiserver kube-controller-manager crossplane-core argocd helm golangci-lint
.PHONY: tools $(addprefix tool-,$(TOOLS))
tools: $(addprefix tool-,$(TOOLS))
$(addprefix tool-,$(TOOLS)): tool-%:
	@tools/build.sh $*

## Build ---------------------------------------------------------------

.PHONY: build
build:
	$(GO) build -o $(BIN)/unsilo ./cmd/unsilo
	$(GO) build -o $(BIN)/function-unsilo ./functions

## Images and packages -----------------------------------------------

# Each program's tag is the hash of what it is built from (`unsilo
# artifacts`, internal/artifacts): the same code always has the same tag, a
# change of code a new one, and platform/artifacts/artifacts.yaml (which the
# manifests read) names them. REGISTRY is where `make publish` pushes.
REGISTRY ?= ghcr.io/unsilo
IMAGES_DIR := $(CURDIR)/out/images
PACKAGES_DIR := $(CURDIR)/out/packages
IMAGE_PATHS := ./functions ./apps/rag-api ./apps/alert-bridge ./apps/log-shipper
ARCHES := amd64 arm64
IMAGES := $(BIN)/images

.PHONY: images package publish $(IMAGES)
$(IMAGES):
	cd tools/images && $(GO) build -o $(IMAGES) .

# --tag PATH=TAG for every program, and the function's tag, from the code at hand.
tag_flags = $(shell $(BIN)/unsilo artifacts --registry $(REGISTRY) | awk '{n=split($$3,a,":"); print "--tag " $$2 "=" a[n]}')
function_ref = $(shell $(BIN)/unsilo artifacts --registry $(REGISTRY) | awk '$$1=="function-unsilo" {print $$3}')
function_tag = $(lastword $(subst :, ,$(function_ref)))

# OCI images for linux/amd64 and linux/arm64 with ko (tools/images), into an
# OCI layout: no Docker daemon, no registry. log-shipper (DuckDB, C++) is
# built with Debian's aarch64 cross compilers for arm64
# (tools/images/apt-packages.txt).
images: build $(IMAGES)
	@rm -rf $(IMAGES_DIR)
	$(IMAGES) --root $(CURDIR) --out $(IMAGES_DIR) --tarballs $(IMAGES_DIR) --repo $(REGISTRY) $(tag_flags) $(IMAGE_PATHS)

# The Function package per platform with that platform's runtime image
# embedded, and the Configuration package of every XRD and Composition.
package: images tool-crossplane
	@rm -rf $(PACKAGES_DIR) && mkdir -p $(PACKAGES_DIR)/configuration
	@for arch in $(ARCHES); do \
		$(BIN)/crossplane xpkg build --package-root=packages/function --examples-root=packages/function/examples \
			--embed-runtime-image-tarball=$(IMAGES_DIR)/function-unsilo-$$arch.tar \
			--package-file=$(PACKAGES_DIR)/function-unsilo-$$arch.xpkg || exit 1; done
	sed 's/FUNCTION_VERSION/$(function_tag)/; s|FUNCTION_PACKAGE|$(REGISTRY)/function-unsilo|' packages/configuration/crossplane.yaml > $(PACKAGES_DIR)/configuration/crossplane.yaml
	@for d in compositions/*/; do api=$$(basename $$d); mkdir -p $(PACKAGES_DIR)/configuration/$$api; \
		cp $$d/xrd.yaml $$d/composition.yaml $(PACKAGES_DIR)/configuration/$$api/; done
	$(BIN)/crossplane xpkg build --package-root=$(PACKAGES_DIR)/configuration --examples-root=compositions/network/examples \
		--ignore='*/*.rendered.yaml' --package-file=$(PACKAGES_DIR)/unsilo-platform.xpkg
	@ls -l $(PACKAGES_DIR)/*.xpkg

# Push the app images (multi-platform indexes), the Function package (one
# index of both platforms' packages) and the Configuration package to
# REGISTRY under their tags. A tag already there is left alone: a tag is
# published once (same code, same tag), never moved.
publish: package
	$(IMAGES) --root $(CURDIR) --push --repo $(REGISTRY) $(tag_flags) ./apps/rag-api ./apps/alert-bridge ./apps/log-shipper
	@if $(IMAGES) exists $(function_ref); then echo "$(function_ref) (already published)"; else \
		$(BIN)/crossplane xpkg push -f $$(echo $(foreach a,$(ARCHES),$(PACKAGES_DIR)/function-unsilo-$(a).xpkg) | tr ' ' ,) $(function_ref) && echo "pushed $(function_ref)"; fi
	@if $(IMAGES) exists $(REGISTRY)/unsilo-platform:$(function_tag); then echo "$(REGISTRY)/unsilo-platform:$(function_tag) (already published)"; else \
		$(BIN)/crossplane xpkg push -f $(PACKAGES_DIR)/unsilo-platform.xpkg $(REGISTRY)/unsilo-platform:$(function_tag) && echo "pushed $(REGISTRY)/unsilo-platform:$(function_tag)"; fi

## Demo ----------------------------------------------------------------

.PHONY: demo demo-platform
demo: demo-platform $(DEMO_TARGETS)
demo-platform: build
	@echo "== What the example platform creates on AWS (bin/unsilo plan) =="
	@$(BIN)/unsilo plan
	@echo
	@echo "== Rendered resources of the dev network (bin/unsilo render; same as crossplane render) =="
	@$(BIN)/unsilo render compositions/network/examples/dev.yaml | head -60
	@echo "... (full output: bin/unsilo render compositions/network/examples/dev.yaml)"
	@echo
	@echo "== Verify (schemas, policies, overlays) =="
	@$(BIN)/unsilo verify

## Test ----------------------------------------------------------------

.PHONY: test test-results test-go test-fidelity test-summary verify golden bench e2e check lint check-tree
test: test-results check-tree lint test-go test-fidelity verify e2e test-alerting test-package test-n8n-delivery $(TEST_TARGETS)
	@$(MAKE) --no-print-directory test-summary

test-results:
	@rm -rf $(RESULTS)

# The inner loop: what a developer runs every few minutes. Go's test cache
# stays on (no -count=1) and -short leaves out the crash, browser and
# real-server tests that make test runs.
check: build
	$(GO) test -short ./...
	$(BIN)/unsilo verify

# golangci-lint over the root module and go mod tidy drift of every module
# (root, tools/*, apps/*/e2e): a go.mod that tidy would change fails.
lint: tool-golangci-lint
	$(BIN)/golangci-lint run --allow-parallel-runners ./...
	@for m in $$(git ls-files go.mod '*/go.mod'); do d=$$(dirname $$m); \
		(cd $$d && $(GO) mod tidy -diff >/dev/null) || { echo "$$m: go mod tidy would change it (run it in $$d)"; exit 1; }; done

# The tree stays a source tree: no tracked file over 5 MiB (binaries and
# build outputs belong in out/ or the cache, never in git).
check-tree:
	@big=$$(git ls-files -z | xargs -0 stat -c '%s %n' 2>/dev/null | awk '$$1 > 5*1024*1024 {print $$2" ("int($$1/1048576)" MiB)"}'); \
		[ -z "$$big" ] || { echo "tracked files over 5 MiB (build outputs do not belong in git):"; echo "$$big"; exit 1; }

# Unit, policy (Rego via OPA), golden and schema tests.
test-go: tool-gotestsum
	$(call gotestsum,go) -count=1 -timeout 30m ./...

# The real `crossplane render` against the real function binary, compared
# with the in-process render on every example.
test-fidelity: tool-crossplane build tool-gotestsum
	CROSSPLANE=$(BIN)/crossplane FUNCTION_BIN=$(BIN)/function-unsilo \
		$(call gotestsum,fidelity) -count=1 -tags fidelity -run TestFidelity ./internal/render/

# The platform on one machine (e2e/README.md): etcd, kube-apiserver and
# Crossplane core on loopback; Argo CD (tools/argocd) with Debian's Redis
# syncing the dev cluster from a git server holding this checkout; the
# function from `make package` called over mTLS; a simulated AWS. Also the
# server-side dry run of every manifest and composed resource.
e2e: tool-etcd tool-kube-apiserver tool-kube-controller-manager tool-crossplane-core tool-argocd tool-helm tool-gotestsum build package
	@command -v redis-server >/dev/null || { echo "make e2e needs redis-server (Debian package redis-server; .ci/run installs it)" >&2; exit 1; }
	ETCD_BIN=$(BIN)/etcd KUBE_APISERVER_BIN=$(BIN)/kube-apiserver KUBE_CONTROLLER_MANAGER_BIN=$(BIN)/kube-controller-manager \
		CROSSPLANE_CORE_BIN=$(BIN)/crossplane-core ARGOCD_BIN=$(BIN)/argocd HELM_BIN=$(BIN)/helm REDIS_SERVER_BIN=$$(command -v redis-server) \
		FUNCTION_BIN=$(BIN)/function-unsilo PACKAGES_DIR=$(PACKAGES_DIR) \
		$(call gotestsum,e2e) -count=1 -p 1 -tags e2e -timeout 60m ./e2e/...

# The n8n workflows in git delivered to a real n8n (the init container's
# script, run twice) and their webhook served; n8n comes from alert-bridge's
# cached install (apps/alert-bridge/app.mk).
.PHONY: test-n8n-delivery
test-n8n-delivery: n8n-install tool-gotestsum
	N8N_BIN=$(N8N_DIR)/node_modules/.bin/n8n $(call gotestsum,n8n-delivery) -count=1 -tags n8n -timeout 30m ./platform/n8n/

# Alert rules and Alertmanager config, judged by the real promtool and amtool.
test-alerting: tool-promtool tool-amtool tool-gotestsum
	PROMTOOL=$(BIN)/promtool AMTOOL=$(BIN)/amtool \
		$(call gotestsum,alerting) -count=1 -tags alerting ./platform/observability/

# The packages build and their metadata parses (and agrees with what
# platform/crossplane installs); then `make publish` into a registry the
# test serves on loopback (go-containerregistry's), which it pulls the
# Function package back from by digest.
test-package: package tool-gotestsum
	PACKAGES_DIR=$(PACKAGES_DIR) VERSION=$(function_tag) \
		$(call gotestsum,package) -count=1 -tags package ./packages/
	cd tools/images && REPO_ROOT=$(CURDIR) $(GOTESTSUM) --format pkgname-and-test-fails --jsonfile $(RESULTS)/publish.json -- -count=1 -tags publish -timeout 30m .

# One line over every gotestsum run of this `make test`.
test-summary:
	@cat $(RESULTS)/*.json | awk '/"Test":/ && /"Action":"pass"/ {p++} /"Test":/ && /"Action":"fail"/ {f++} /"Test":/ && /"Action":"skip"/ {s++} END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s; exit (f > 0)}'

# Each environment as its Argo CD syncs it; a pinned release must be on
# main's history (origin/main in a CI clone).
verify: build
	$(BIN)/unsilo verify

golden:
	UPDATE_GOLDEN=1 $(GO) test -count=1 -run Golden ./internal/render/ ./internal/plan/
	$(GO) run ./cmd/dashboards

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./functions/... ./internal/schema/

BASE ?= main
.PHONY: plan-diff
plan-diff: build
	$(BIN)/unsilo plan --diff $(BASE)
