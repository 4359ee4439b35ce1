"""Stack outputs: what a pipeline or a person reads after `pulumi up`, the same on every target."""

from __future__ import annotations

from typing import Any

from components.plan import DeploymentPlan
from components.planning.plan_model import ExternalPlan


def deployment_summary(deployment: DeploymentPlan) -> dict[str, Any]:
    serving = deployment.serving
    return {
        "endpoint": deployment.endpoint,
        # The route's path prefix, its template resolved (None: no route on Kubernetes).
        "routePath": deployment.route.path if deployment.route else None,
        "state": deployment.state,
        "servingSlot": deployment.serving_slot,
        "engine": serving.engine.name,
        "image": serving.engine.image,
        "precision": serving.engine.precision,
        "profile": serving.engine.profile,
        "model": serving.model.location.source,
        "gpus": deployment.gpu_summary,
        # Requests of one engine replica (limits are in the rendered workload).
        "resources": {
            "cpu": serving.resources.cpu_request,
            "memory": serving.resources.memory_request,
        },
        "replicas": sum(s.replicas for s in deployment.slots if s.slot == deployment.serving_slot),
    }


def external_summary(deployment: ExternalPlan) -> dict[str, Any]:
    """An external deployment runs nothing: where it is reached and what it routes to."""
    return {
        "endpoint": deployment.endpoint,
        "routePath": deployment.route.path,
        "state": deployment.state,
        "external": [
            {"url": e.url, "weight": e.weight, "priority": e.priority} for e in deployment.endpoints
        ],
    }
