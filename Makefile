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
	@echo "make check    the inner loop (about a minute warm): short unit, policy and golden tests + verify"
	@echo "make test     everything CI runs: lint, tree checks, unit + policy tests, fidelity with the real crossplane CLI, verify, e2e$(if $(TEST_TARGETS), + $(TEST_TARGETS))"
	@echo "make lint     golangci-lint (pinned in tools/golangci-lint) and go mod tidy drift of every module"
	@echo "make verify   validate, render and policy-check everything (bin/unsilo verify)"
	@echo "make golden   refresh the golden renders next to the examples"
	@echo "make images   OCI images (ko, OCI layout in out/images); make package: Function + Configuration .xpkg"
	@echo "make bench    Go benchmarks of the function"
	@echo "make plan-diff BASE=main   markdown of the AWS changes since BASE (the PR comment)"
	@echo "make e2e      a real etcd + kube-apiserver + Crossplane core on loopback judge every manifest"
	@echo "make tools    build the pinned CLIs and servers into bin/ (cached in ~/.cache/unsilo)"

## Tools ---------------------------------------------------------------

TOOLS := crossplane promtool amtool gotestsum etcd kube-apiserver crossplane-core golangci-lint
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

.PHONY: test test-results test-go test-fidelity test-summary verify golden bench e2e check lint check-tree
test: test-results check-tree lint test-go test-fidelity verify e2e test-alerting test-package $(TEST_TARGETS)
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
	$(BIN)/golangci-lint run ./...
	@for m in $$(git ls-files go.mod '*/go.mod'); do d=$$(dirname $$m); \
		(cd $$d && $(GO) mod tidy -diff >/dev/null) || { echo "$$m: go mod tidy would change it (run it in $$d)"; exit 1; }; done

# The tree stays a source tree: no tracked file over 5 MiB (binaries and
# build outputs belong in out/ or the cache, never in git).
check-tree:
	@big=$$(git ls-files -z | xargs -0 stat -c '%s %n' 2>/dev/null | awk '$$1 > 5*1024*1024 {print $$2" ("int($$1/1048576)" MiB)"}'); \
		[ -z "$$big" ] || { echo "tracked files over 5 MiB (build outputs do not belong in git):"; echo "$$big"; exit 1; }

# Unit, policy (Rego via OPA), golden and schema tests.
test-go: tool-gotestsum
	$(call gotestsum,go) -count=1 ./...

# The real `crossplane render` against the real function binary, compared
# with the in-process render on every example.
test-fidelity: tool-crossplane build tool-gotestsum
	CROSSPLANE=$(BIN)/crossplane FUNCTION_BIN=$(BIN)/function-unsilo \
		$(call gotestsum,fidelity) -count=1 -tags fidelity -run TestFidelity ./internal/render/

# Every manifest of clusters/, platform/ and teams/ and every composed
# resource, server-side dry-run in sync-wave order against a real API server
# with Crossplane core serving the XRDs.
e2e: tool-etcd tool-kube-apiserver tool-crossplane-core tool-gotestsum
	ETCD_BIN=$(BIN)/etcd KUBE_APISERVER_BIN=$(BIN)/kube-apiserver CROSSPLANE_CORE_BIN=$(BIN)/crossplane-core \
		$(call gotestsum,e2e) -count=1 -tags e2e -timeout 15m ./e2e/

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
