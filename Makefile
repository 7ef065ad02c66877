# unsilo: `make demo` runs the platform on embedded defaults, `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# CLIs and servers built from source are cached outside the clone, keyed by version.
UNSILO_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/unsilo
export UNSILO_CACHE
BIN := $(CURDIR)/bin

# Each app adds its own targets (and appends to TEST_TARGETS / DEMO_TARGETS) in apps/<app>/app.mk.
TEST_TARGETS :=
DEMO_TARGETS :=
-include $(wildcard apps/*/app.mk)

.PHONY: help
help:
	@echo "make demo   render the example platform and show what it would create"
	@echo "make test   unit, policy, fidelity and e2e tests, then verify"
