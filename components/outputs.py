"""Stack outputs: what a pipeline or a person reads after `pulumi up`, the same on every target."""

from __future__ import annotations

from typing import Any

from components.plan import DeploymentPlan


def deployment_summary(deployment: DeploymentPlan) -> dict[str, Any]:
    serving = deployment.serving
    return {
        "endpoint": deployment.endpoint,
        "state": deployment.state,
        "servingSlot": deployment.serving_slot,
        "engine": serving.engine.name,
        "image": serving.engine.image,
        "model": serving.model.location.source,
        "gpus": deployment.gpu_summary,
        "replicas": sum(s.replicas for s in deployment.slots if s.slot == deployment.serving_slot),
    }
