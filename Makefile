# Everything runs from .venv, built from uv.lock; only python3 (3.11+) is needed to start.
PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.9
CRD_SCHEMAS ?= ../shared/schemas/crds

.PHONY: setup test lint lock render validate policies crd-schemas dev-up bench clean

setup: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	test -x $(VENV)/bin/uv || $(VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(VENV)/bin/uv sync --frozen --python $(VENV)/bin/python
	touch $@

# The main job: `pulumi up` on the dev stack with local Docker and local state.
dev-up:
	bash scripts/dev-up.sh

test: setup
	$(VENV)/bin/python -m pytest -q

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

lock: setup
	$(VENV)/bin/uv lock

# Offline review of a stack: make render STACK=prod
STACK ?= dev
render: setup
	$(VENV)/bin/modelstack render --stack $(STACK) --out render/$(STACK)

validate: setup
	$(VENV)/bin/modelstack validate --stack $(STACK) --crd-schemas $(CRD_SCHEMAS)

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
