# Everything runs from .venv, built from uv.lock; only python3 (3.11+) is needed to start.
PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.9
# uv trusts its own bundled roots unless told: behind a TLS-inspecting proxy only the
# system's CA store (which pip already uses) reaches PyPI.
export UV_SYSTEM_CERTS := 1
# Empty: validate finds build/crd-schemas (make crd-schemas) or ../shared by itself.
CRD_SCHEMAS ?=

.PHONY: setup test lint lock render validate policies crd-schemas dev-up bench clean \
	e2e e2e-tools e2e-cluster e2e-docker e2e-stack bench-e2e

setup: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	test -x $(VENV)/bin/uv || $(VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(VENV)/bin/uv sync --frozen --python $(VENV)/bin/python
	touch $@

# The main job: `pulumi up` on the dev stack with local Docker and local state.
dev-up:
	bash scripts/dev-up.sh

# The fast suite: everything but the real-engine suites below.
test: setup
	$(VENV)/bin/python -m pytest -q -m "not e2e and not e2e_docker"

# Real-engine suites: the real Pulumi CLI, language host and pulumi-kubernetes provider
# against a real kube-apiserver with KWOK nodes (e2e-cluster), and a real Docker Engine
# (e2e-docker). Binaries are built from the Go modules pinned in tools/go/ into build/e2e-tools.
E2E_TOOLS := build/e2e-tools/bin
e2e: e2e-cluster e2e-docker

e2e-tools:
	bash tools/build.sh $(E2E_TOOLS)

e2e-cluster: setup e2e-tools
	MODELSTACK_E2E_TOOLS=$(abspath $(E2E_TOOLS)) $(VENV)/bin/python -m pytest -q -m e2e tests/e2e

# The docker target on a real Docker Engine (Debian's docker.io, started by the tests as root;
# images from debootstrap root filesystems). The script installs what is missing and caches
# the root filesystems in build/e2e-docker; the tests then need no network.
e2e-docker: setup e2e-tools
	bash scripts/e2e-docker-setup.sh build/e2e-docker
	MODELSTACK_E2E_TOOLS=$(abspath $(E2E_TOOLS)) $(VENV)/bin/python -m pytest -q -m e2e_docker tests/e2e_docker

# A user's own stack file through preview, up, a second preview and destroy on a local
# cluster whose KWOK nodes satisfy its placement: make e2e-stack STACK_FILE=stacks/Pulumi.prod.yaml
# Only the JSON summary goes to stdout.
e2e-stack: setup
	@test -n "$(STACK_FILE)" || { echo "usage: make e2e-stack STACK_FILE=path/to/Pulumi.<stack>.yaml" >&2; exit 2; }
	@bash tools/build.sh $(E2E_TOOLS) >&2
	@MODELSTACK_E2E_TOOLS=$(abspath $(E2E_TOOLS)) $(VENV)/bin/python -m tests.e2e.stack_run "$(STACK_FILE)"

# Real engine against the offline render, in the same run: make bench-e2e
bench-e2e: setup e2e-tools
	MODELSTACK_E2E_TOOLS=$(abspath $(E2E_TOOLS)) $(VENV)/bin/python benchmarks/real_engine.py

# actionlint checks the workflows users copy (.github/workflows, settings in
# .github/actionlint.yaml) and their run: scripts with shellcheck, which it skips without a
# word when shellcheck is not on PATH: refuse that instead.
lint: setup
	@command -v shellcheck >/dev/null 2>&1 || { echo "make lint: shellcheck is missing, so the workflows' run: scripts would go unchecked: apt-get install -y shellcheck" >&2; exit 1; }
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/actionlint

lock: setup
	$(VENV)/bin/uv lock

# Offline review of a stack: make render STACK=prod
STACK ?= dev
render: setup
	$(VENV)/bin/modelstack render --stack $(STACK) --out render/$(STACK)

validate: setup
	$(VENV)/bin/modelstack validate --stack $(STACK) $(if $(CRD_SCHEMAS),--crd-schemas $(CRD_SCHEMAS))

# Policy pack enforcement levels per environment (policies/config/<env>.json), from the
# table in components/guardrails/enforcement.py; tests fail when they drift apart.
policies: setup
	$(VENV)/bin/python -m components.guardrails.enforcement --out policies/config

# Benchmarks that print figures (render speed and memory, schema validation, load balancer).
bench: setup
	UV_PROJECT_ENVIRONMENT=$(VENV) $(VENV)/bin/uv sync --frozen --group bench --python $(VENV)/bin/python
	$(VENV)/bin/python benchmarks/render.py
	$(VENV)/bin/python benchmarks/schema_validation.py
	$(VENV)/bin/python benchmarks/lb.py

# Upstream CRD schemas (KEDA, Gateway API, Envoy Gateway, Prometheus Operator) for validate.
crd-schemas: setup
	$(VENV)/bin/python -m components.offline.crd_schemas --out build/crd-schemas

clean:
	rm -rf $(VENV) render .pytest_cache .ruff_cache
