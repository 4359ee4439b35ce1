"""The shared endpoint's plan: one OpenAI base URL, a model name -> the deployment serving it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# What /v1/models says owns each model (OpenAI's `owned_by`).
OWNER = "modelstack"


@dataclass(frozen=True)
class SharedModel:
    # What clients send in the body's `model` (a served name, its engine id, an adapter).
    name: str
    deployment: str
    # Listed by <path>/models (an engine id the served name stands for is routed, not listed).
    listed: bool = True
    # The base model's name when `name` is a LoRA adapter.
    adapter_of: str | None = None


@dataclass(frozen=True)
class SharedEndpointPlan:
    # The OpenAI base URL's path (no trailing '/'): clients call <path>/chat/completions.
    path: str
    hosts: tuple[str, ...]
    # Sorted by name; every name is routed to exactly one deployment.
    models: tuple[SharedModel, ...]
    # How long a request may take, per deployment: its route's timeout (streams included).
    timeouts: dict[str, int] = field(default_factory=dict)
    # Kubernetes: the Gateway the shared HTTPRoute attaches to (name, namespace), and the
    # body-based router that copies `model` into a header (its image and replicas).
    gateway: tuple[str, str] | None = None
    router_image: str | None = None
    router_replicas: int = 0
    router_disruption_budget: bool = False

    @property
    def routes(self) -> dict[str, str]:
        """Model name -> deployment name."""
        return {model.name: model.deployment for model in self.models}

    def names_of(self, deployment: str) -> tuple[str, ...]:
        """Every model name routed to `deployment`, sorted."""
        return tuple(model.name for model in self.models if model.deployment == deployment)

    @property
    def deployments(self) -> tuple[str, ...]:
        """Deployments the endpoint routes to, in the order of their first model."""
        return tuple(dict.fromkeys(model.deployment for model in self.models))

    def models_document(self) -> dict[str, Any]:
        """The body of GET <path>/models: OpenAI's list of models."""
        return {
            "object": "list",
            "data": [
                {"id": model.name, "object": "model", "created": 0, "owned_by": OWNER}
                for model in self.models
                if model.listed
            ],
        }
