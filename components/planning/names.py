"""Deterministic object names: the same stack file always yields the same names.

Routine edits (scale, version bump, blue-green switch) never change a name, so nothing
is replaced. Only loader Jobs carry a content hash: a Job's template is immutable, so a
new model revision gets a new Job instead of a failed update.
"""

from __future__ import annotations

import hashlib
import json


def workload(deployment: str, slot: str, strategy: str, pool: str | None = None) -> str:
    """A slot's workload: `llama` (rolling), `llama-blue`, and with pools `llama-blue-h100`."""
    name = deployment if strategy == "rolling" else f"{deployment}-{slot}"
    return f"{name}-{pool}" if pool else name


def pool_service(deployment: str, pool: str) -> str:
    """Reaches one pool of the serving slot (a route weighs pools against each other)."""
    return f"{deployment}-{pool}"


def slot_service(deployment: str, slot: str) -> str:
    """Reaches one blue-green slot across its pools."""
    return f"{deployment}-{slot}"


def stable_service(deployment: str) -> str:
    """The Service clients call; it selects the serving slot."""
    return deployment


def cache_claim(deployment: str) -> str:
    return f"{deployment}-cache"


def hf_token_secret(deployment: str) -> str:
    return f"{deployment}-hf-token"


def api_key_secret(deployment: str) -> str:
    return f"{deployment}-api-key"


def request_interceptor_route(deployment: str) -> str:
    """The HTTPScaledObject of a deployment that scales to zero. The add-on's docs ask for
    a name other than the ScaledObject's (the slot workload's name)."""
    return f"{deployment}-interceptor"


def loader_job(deployment: str, content: object) -> str:
    return f"{deployment}-fetch-{content_hash(content)}"


def content_hash(content: object) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def registry_secret(registry: str) -> str:
    """The pull Secret modelstack creates for a registry (one per namespace)."""
    return f"modelstack-registry-{registry}"
