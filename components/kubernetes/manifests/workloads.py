"""The Deployment of each slot and its PodDisruptionBudget."""

from __future__ import annotations

from typing import Any

from components.kubernetes.manifests import labels
from components.kubernetes.manifests.pod import engine_pod_template
from components.plan import DeploymentPlan, SlotPlan

# Kubernetes marks a rollout failed after this long without progress; loading is slow.
PROGRESS_MARGIN_SECONDS = 600


def engine_deployment(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": slot.workload_name,
            "namespace": deployment.namespace,
            "labels": labels.for_workload(deployment, slot),
        },
        "spec": {
            # An autoscaler owns the count: a replicas field here would fight it on every apply.
            **({"replicas": slot.replicas} if slot.autoscaling is None else {}),
            "selector": {"matchLabels": labels.workload_selector(deployment, slot)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {
                    "maxSurge": deployment.max_surge,
                    "maxUnavailable": deployment.max_unavailable,
                },
            },
            "revisionHistoryLimit": 5,
            "progressDeadlineSeconds": deployment.startup_timeout_seconds + PROGRESS_MARGIN_SECONDS,
            "template": engine_pod_template(deployment, slot),
        },
    }


def disruption_budget(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, Any]:
    """At most one pod of a slot down at a time for node drains and upgrades."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {
            "name": slot.workload_name,
            "namespace": deployment.namespace,
            "labels": labels.for_slot(deployment, slot),
        },
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": labels.workload_selector(deployment, slot)},
        },
    }
