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
	@echo "make test     unit + policy tests, fidelity with the real crossplane CLI, verify$(if $(TEST_TARGETS), + $(TEST_TARGETS))"
	@echo "make verify   validate, render and policy-check everything (bin/unsilo verify)"
	@echo "make golden   refresh the golden renders next to the examples"
	@echo "make images   OCI images (ko, OCI layout in out/images); make package: Function + Configuration .xpkg"
	@echo "make bench    Go benchmarks of the function"
	@echo "make plan-diff BASE=main   markdown of the AWS changes since BASE (the PR comment)"
	@echo "make e2e      the platform on one machine: Argo CD syncs dev into a real API server, Crossplane composes with the function, simulated AWS"
	@echo "make tools    build the pinned CLIs and servers into bin/ (cached in ~/.cache/unsilo)"

## Tools ---------------------------------------------------------------

TOOLS := crossplane promtool amtool gotestsum etcd kube-apiserver kube-controller-manager crossplane-core argocd helm
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

# Versions come from git: v0.1.0-<commit> (a semver prerelease Crossplane's
# dependency resolver accepts).
VERSION ?= v0.1.0-$(shell git rev-parse --short=12 HEAD 2>/dev/null || echo dev)
IMAGES_DIR := $(CURDIR)/out/images
PACKAGES_DIR := $(CURDIR)/out/packages
IMAGE_PATHS := ./functions ./apps/rag-api ./apps/alert-bridge ./apps/log-shipper

.PHONY: images package
# OCI images with ko (tools/images), into an OCI layout: no Docker daemon,
# no registry. log-shipper links DuckDB and libc statically (tools/images).
images:
	@rm -rf $(IMAGES_DIR)
	cd tools/images && $(GO) build -o $(BIN)/images .
	$(BIN)/images --root $(CURDIR) --out $(IMAGES_DIR) --version $(VERSION) $(IMAGE_PATHS)

# The Function package with its runtime image embedded, and the
# Configuration package of every XRD and Composition.
package: images tool-crossplane
	@rm -rf $(PACKAGES_DIR) && mkdir -p $(PACKAGES_DIR)/configuration
	$(BIN)/crossplane xpkg build --package-root=packages/function --examples-root=packages/function/examples \
		--embed-runtime-image-tarball=$(IMAGES_DIR)/function-unsilo.tar \
		--package-file=$(PACKAGES_DIR)/function-unsilo-$(VERSION).xpkg
	sed 's/FUNCTION_VERSION/$(VERSION)/' packages/configuration/crossplane.yaml > $(PACKAGES_DIR)/configuration/crossplane.yaml
	@for d in compositions/*/; do api=$$(basename $$d); mkdir -p $(PACKAGES_DIR)/configuration/$$api; \
		cp $$d/xrd.yaml $$d/composition.yaml $(PACKAGES_DIR)/configuration/$$api/; done
	$(BIN)/crossplane xpkg build --package-root=$(PACKAGES_DIR)/configuration --examples-root=compositions/network/examples \
		--ignore='*/*.rendered.yaml' --package-file=$(PACKAGES_DIR)/unsilo-platform-$(VERSION).xpkg
	@ls -l $(PACKAGES_DIR)/*.xpkg

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

.PHONY: test test-results test-go test-fidelity test-summary verify golden bench e2e
test: test-results test-go test-fidelity verify e2e test-alerting test-package $(TEST_TARGETS)
	@$(MAKE) --no-print-directory test-summary

test-results:
	@rm -rf $(RESULTS)

# Unit, policy (Rego via OPA), golden and schema tests.
test-go: tool-gotestsum
	$(call gotestsum,go) -count=1 ./...

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
		FUNCTION_BIN=$(BIN)/function-unsilo PACKAGES_DIR=$(PACKAGES_DIR) VERSION=$(VERSION) \
		$(call gotestsum,e2e) -count=1 -p 1 -tags e2e -timeout 60m ./e2e/...

# Alert rules and Alertmanager config, judged by the real promtool and amtool.
test-alerting: tool-promtool tool-amtool tool-gotestsum
	PROMTOOL=$(BIN)/promtool AMTOOL=$(BIN)/amtool \
		$(call gotestsum,alerting) -count=1 -tags alerting ./platform/observability/

# The packages build and their metadata parses (and agrees with what
# platform/crossplane installs).
test-package: package tool-gotestsum
	PACKAGES_DIR=$(PACKAGES_DIR) VERSION=$(VERSION) \
		$(call gotestsum,package) -count=1 -tags package ./packages/

# One line over every gotestsum run of this `make test`.
test-summary:
	@cat $(RESULTS)/*.json | awk '/"Test":/ && /"Action":"pass"/ {p++} /"Test":/ && /"Action":"fail"/ {f++} /"Test":/ && /"Action":"skip"/ {s++} END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s; exit (f > 0)}'

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
