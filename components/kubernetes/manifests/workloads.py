"""The workload of each slot (a Deployment or a LeaderWorkerSet) and its PodDisruptionBudget."""

from __future__ import annotations

from typing import Any

from components.kubernetes.manifests import labels
from components.kubernetes.manifests.leader_worker_set import API_VERSION as LWS_API_VERSION
from components.kubernetes.manifests.leader_worker_set import KIND as LWS_KIND
from components.kubernetes.manifests.leader_worker_set import leader_worker_set
from components.kubernetes.manifests.pod import engine_pod_template
from components.plan import DeploymentPlan, SlotPlan


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
                    "maxSurge": deployment.on_kubernetes.max_surge,
                    "maxUnavailable": deployment.on_kubernetes.max_unavailable,
                },
            },
            "revisionHistoryLimit": 5,
            # Kubernetes marks the rollout failed after this long without progress.
            "progressDeadlineSeconds": deployment.timeouts.rollout_seconds,
            "template": engine_pod_template(deployment, slot),
        },
    }


def disruption_budget(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, Any]:
    """How many pods of a slot node drains and upgrades may take down at a time."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {
            "name": slot.workload_name,
            "namespace": deployment.namespace,
            "labels": labels.for_slot(deployment, slot),
        },
        "spec": {
            "maxUnavailable": deployment.on_kubernetes.disruption_budget,
            "selector": {"matchLabels": labels.workload_selector(deployment, slot)},
        },
    }


def engine_workload(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, Any]:
    """A slot's workload: a Deployment, or a LeaderWorkerSet when its model spans nodes."""
    if slot.group is not None:
        return leader_worker_set(deployment, slot)
    return engine_deployment(deployment, slot)


def scale_target(slot: SlotPlan) -> dict[str, str]:
    """What an autoscaler's scaleTargetRef names for the slot (both kinds have `/scale`)."""
    if slot.group is not None:
        return {"apiVersion": LWS_API_VERSION, "kind": LWS_KIND, "name": slot.workload_name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": slot.workload_name}
