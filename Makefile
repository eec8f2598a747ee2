# crosshost.network: developer and CI entry points (`make help`).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VENV ?= $(ROOT)/.venv
BIN := $(VENV)/bin
# Python 3.12 for a new venv: pyenv's, else python3.12 on PATH.
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12.*/bin/python) $(shell command -v python3.12 2>/dev/null))
PYTEST := $(BIN)/pytest

# Ansible finds this checkout as crosshost.network through a symlink:
# .cache/collections/ansible_collections/crosshost/network -> checkout.
# (.cache is gitignored and excluded from ansible-lint, pytest and sanity,
# so nothing walks back into the checkout through it.)
COLLECTIONS := $(ROOT)/.cache/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/crosshost/network
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(BIN):$(PATH)

DEPS_STAMP := $(VENV)/.crosshost-requirements

.PHONY: help deps collections lint sanity unit integration molecule test demo demo-down bench clean

help:
	@echo "make deps         create .venv (Python 3.12) from requirements.txt if missing"
	@echo "make lint         ansible-lint (production profile), antsibull-docs lint-collection-docs"
	@echo "make sanity       ansible-test sanity (tests/run-sanity.sh)"
	@echo "make unit         pytest tests/unit"
	@echo "make integration  pytest tests/integration (root: real network namespaces)"
	@echo "make molecule     pytest tests/molecule (every molecule/ scenario)"
	@echo "make test         lint, sanity, then one pytest run over tests/"
	@echo "make demo         build, configure and verify the docker-in-docker lab (HOSTS=3)"
	@echo "make demo-down    remove the lab"
	@echo "make bench        the benchmarks (root; each prints a table)"

deps: $(DEPS_STAMP)

# Reinstalls when requirements.txt changes; creates the venv only if missing.
$(DEPS_STAMP): requirements.txt
	@if [ ! -x "$(BIN)/python" ]; then \
	  if [ -z "$(PYTHON)" ]; then echo "no Python 3.12 found: make deps PYTHON=/path/to/python3.12" >&2; exit 1; fi; \
	  echo "creating $(VENV) with $(PYTHON)"; \
	  "$(PYTHON)" -m venv "$(VENV)"; \
	fi
	"$(BIN)/python" -m pip install -q -r requirements.txt
	@touch "$@"

collections:
	@mkdir -p "$(dir $(COLLECTION_LINK))"
	@ln -sfn "$(ROOT)" "$(COLLECTION_LINK)"

# ansible-lint, then the docs of every role and plugin as antsibull-docs (docs sites) reads them.
lint: deps collections
	cd "$(ROOT)" && ansible-lint
	cd "$(ROOT)" && antsibull-docs lint-collection-docs --plugin-docs .

sanity: deps
	"$(ROOT)/tests/run-sanity.sh"

# A suite that has no tests yet (pytest exit 5, or no folder) is reported, not failed.
define pytest_suite
	@if [ ! -d "$(1)" ]; then echo "$(1): no tests yet"; exit 0; fi; \
	rc=0; "$(PYTEST)" "$(1)" || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "$(1): no tests collected yet"; rc=0; fi; \
	exit $$rc
endef

unit: deps collections
	$(call pytest_suite,tests/unit)

integration: deps collections
	@if [ "$$(id -u)" != 0 ]; then echo "integration tests need root (they create network namespaces)" >&2; exit 1; fi
	$(call pytest_suite,tests/integration)

molecule: deps collections
	$(call pytest_suite,tests/molecule)

# One pytest run over everything, so the last line printed is its summary.
# (tests/molecule always collects at least one item, so exit 5 cannot happen.)
# Not root: the integration tests cannot run (network namespaces); say so loudly, and
# fail under CI (where tests/conftest.py also turns every skip into a failure).
test: lint sanity collections
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "************************************************************************" >&2; \
	  echo "make test: NOT ROOT - every integration and lab test will be SKIPPED." >&2; \
	  echo "           Run make test as root to run the whole suite." >&2; \
	  echo "************************************************************************" >&2; \
	  if [ "$${CI:-}" = true ]; then echo "make test: CI=true needs root" >&2; exit 1; fi; \
	fi
	cd "$(ROOT)" && "$(PYTEST)" tests

# The lab (docker-in-docker demo cluster) is playbooks/lab/'s; `make demo HOSTS=5`
# passes HOSTS on to it.
demo: deps collections
	"$(ROOT)/playbooks/lab/demo.sh"

demo-down: deps collections
	"$(ROOT)/playbooks/lab/demo.sh" down

# Benchmarks print tables; they are not part of `make test`.
bench: deps collections
	"$(BIN)/python" benchmarks/bench_reconcile.py --quick
	"$(BIN)/python" benchmarks/bench_site.py
	"$(BIN)/python" benchmarks/bench_throughput.py
	"$(BIN)/python" benchmarks/bench_boot.py

clean:
	rm -rf "$(ROOT)/tests/output" "$(ROOT)/.pytest_cache" "$(COLLECTIONS)"
