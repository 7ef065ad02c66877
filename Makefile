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
	@echo "make bench    Go benchmarks of the function"
	@echo "make tools    build the pinned CLIs (crossplane, promtool, amtool, gotestsum) into bin/"

## Tools ---------------------------------------------------------------

TOOLS := crossplane promtool amtool gotestsum
.PHONY: tools $(addprefix tool-,$(TOOLS))
tools: $(addprefix tool-,$(TOOLS))
$(addprefix tool-,$(TOOLS)): tool-%:
	@tools/build.sh $*

## Build ---------------------------------------------------------------

.PHONY: build
build:
	$(GO) build -o $(BIN)/unsilo ./cmd/unsilo
	$(GO) build -o $(BIN)/function-unsilo ./functions

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

.PHONY: test test-go test-fidelity verify golden bench
test: test-go test-fidelity verify $(TEST_TARGETS)
	@echo "make test: all checks passed"

# Unit, policy (Rego via OPA) and golden tests; gotestsum prints the summary CI reads.
test-go: tool-gotestsum
	$(GOTESTSUM) --format pkgname-and-test-fails -- -count=1 ./...

# The real `crossplane render` against the real function binary, compared
# with the in-process render on every example.
test-fidelity: tool-crossplane build tool-gotestsum
	CROSSPLANE=$(BIN)/crossplane FUNCTION_BIN=$(BIN)/function-unsilo \
		$(GOTESTSUM) --format pkgname-and-test-fails -- -count=1 -tags fidelity -run TestFidelity ./internal/render/

verify: build
	$(BIN)/unsilo verify

golden:
	UPDATE_GOLDEN=1 $(GO) test -count=1 -run TestGolden ./internal/render/

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./functions/...
