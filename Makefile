# Relocation follow-up support platform: developer and CI entry points.
#
#   make install     .venv from requirements.lock (hash-checked) + editable shared/ and services/*,
#                    and the monitoring page (npm ci + build)
#   make lock        re-resolve uv.lock and export requirements.lock
#   make lint        ruff, ruff format --check, mypy, the size limits (scripts/check_limits.py), docker-compose.yml
#                    and deploy/k8s checks
#   make test        install, lint, Chromium and faketime (apt, as root), the unit suite at five instants
#                    and host zones (faketime), then pytest against a local Kafka + SecantusDB
#   make run         install, then scripts/run.py (SCALE=n -> --scale n; ARGS=... passed through)
#   make bench       install, then every bench/*.py against a local stack (.stack/bench)
#   make stack-up    start the dev stack in .stack/dev (prints the env to export)
#   make stack-down  stop the dev stack (make stack-status: is it up?)
#   make clean       stop every local stack, delete .stack/ and the tool caches (keeps .venv)
#   make distclean   clean + delete .venv

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV := .venv
VPY := $(VENV)/bin/python
PYTHON_VERSION ?= 3.11
CACHE ?= $(or $(RELOCATION_CACHE),$(HOME)/.cache/relocation-platform)

# uv: the one on PATH, or one installed by `make` into a bootstrap venv in the cache.
UV_BOOTSTRAP := $(CACHE)/uv-bootstrap
UV ?= $(or $(shell command -v uv 2>/dev/null),$(UV_BOOTSTRAP)/bin/uv)
# No interpreter downloads: the machine's Python 3.11 is used (registries only, no other hosts).
export UV_PYTHON_DOWNLOADS ?= never

SERVICE_DIRS := $(patsubst %/pyproject.toml,%,$(sort $(wildcard services/*/pyproject.toml)))
# The install stamp is keyed on the lock file and on the workspace members' metadata, so a changed
# lock or a new service re-runs the install and anything else is a no-op.
INSTALL_KEY := $(shell cat requirements.lock shared/pyproject.toml $(addsuffix /pyproject.toml,$(SERVICE_DIRS)) 2>/dev/null | sha256sum | cut -c1-16)
INSTALL_STAMP := $(VENV)/.installed-$(INSTALL_KEY)

DEV_STACK := .stack/dev

# The monitoring page: Apache ECharts from npm (package-lock.json), bundled by build.mjs into the read
# model's static/ folder (build output, ignored by git). Rebuilt when its sources change.
WEB_DIR := services/readmodel/web
WEB_BUILT := services/readmodel/readmodel_service/static/index.html
WEB_SOURCES := $(WEB_DIR)/package-lock.json $(WEB_DIR)/build.mjs $(wildcard $(WEB_DIR)/src/*)

.PHONY: help install lock lint lint-py lint-deploy test run bench stack-up stack-down stack-status clean distclean

help:
	@sed -n '3,16s/^# \{0,1\}//p' Makefile

# --- install -----------------------------------------------------------------------------------

install: $(INSTALL_STAMP) $(WEB_BUILT)

$(WEB_BUILT): $(WEB_SOURCES)
	@command -v npm >/dev/null || { echo "npm is missing: the monitoring page is built with Node.js 18+ and npm"; exit 1; }
	cd $(WEB_DIR) && npm ci --no-audit --no-fund --loglevel=error && npm run build
	touch $@

$(UV_BOOTSTRAP)/bin/uv:
	@echo "uv is not on PATH: installing it into $(UV_BOOTSTRAP)"
	rm -rf "$(UV_BOOTSTRAP)"
	if python3 -m venv "$(UV_BOOTSTRAP)"; then "$(UV_BOOTSTRAP)/bin/python" -m pip install -q uv; \
	else python3 -m pip install -q --target "$(UV_BOOTSTRAP)/pkgs" uv \
	  && mkdir -p "$(UV_BOOTSTRAP)/bin" && ln -sf ../pkgs/bin/uv "$(UV_BOOTSTRAP)/bin/uv"; fi
	"$(UV_BOOTSTRAP)/bin/uv" --version

$(INSTALL_STAMP): | $(if $(filter $(UV_BOOTSTRAP)/bin/uv,$(UV)),$(UV_BOOTSTRAP)/bin/uv)
	@test -f requirements.lock || { echo "requirements.lock is missing: run 'make lock'"; exit 1; }
	if [ ! -x "$(VPY)" ]; then "$(UV)" venv -p $(PYTHON_VERSION) $(VENV); fi
	"$(UV)" pip install --python $(VPY) --require-hashes -r requirements.lock
	"$(UV)" pip install --python $(VPY) --no-deps -e shared $(addprefix -e ,$(SERVICE_DIRS))
	rm -f $(VENV)/.installed-*
	touch $@

lock: | $(if $(filter $(UV_BOOTSTRAP)/bin/uv,$(UV)),$(UV_BOOTSTRAP)/bin/uv)
	"$(UV)" lock
	"$(UV)" export --format requirements-txt --no-emit-workspace --all-packages --all-groups -o requirements.lock
	@if grep -nE '(https?|file)://' requirements.lock; then \
	  echo "requirements.lock names an address (above): keep it to package names, versions and hashes"; exit 1; fi
	@echo "requirements.lock written"

# --- lint --------------------------------------------------------------------------------------

lint: install
	$(MAKE) lint-py
	$(MAKE) lint-deploy

lint-py:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared services
	$(VPY) scripts/check_limits.py services shared

# Deployment files: docker-compose.yml against the compose spec vendored in check-jsonschema, and
# the Kubernetes manifests (no k8s schema is vendored there) parsed and checked for their basics.
lint-deploy:
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	$(VPY) scripts/check_k8s.py deploy/k8s

# --- test, run, bench --------------------------------------------------------------------------

test: install
	$(MAKE) lint
	bash scripts/ensure_packages.sh
	bash scripts/test_anyhour.sh
	bash scripts/test.sh

run: install
	$(VPY) scripts/run.py $(if $(SCALE),--scale $(SCALE)) $(ARGS)

bench: install
	bash scripts/bench.sh

# --- local stack -------------------------------------------------------------------------------

stack-up: install
	$(VPY) scripts/stack.py start --dir $(DEV_STACK)

stack-down:
	if [ -x "$(VPY)" ]; then $(VPY) scripts/stack.py stop --dir $(DEV_STACK); fi

stack-status: install
	$(VPY) scripts/stack.py status --dir $(DEV_STACK)

# --- clean -------------------------------------------------------------------------------------

clean:
	if [ -x "$(VPY)" ] && [ -d .stack ]; then \
	  for d in .stack/*/; do [ -f "$$d/stack.json" ] && $(VPY) scripts/stack.py stop --dir "$$d" || true; done; \
	fi
	rm -rf .stack .pytest_cache .mypy_cache .ruff_cache test-artifacts
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
