"""The LeaderWorkerSet of a slot whose model spans several nodes (gpu.nodes > 1).

LWS v0.10.0 (leaderworkerset.x-k8s.io/v1, https://github.com/kubernetes-sigs/lws): each
replica is a group of `size` pods, a leader and workers, created, rolled, restarted and
scaled as one. HPA and KEDA target it like a Deployment: its CRD has a scale subresource
(`specReplicasPath: .spec.replicas`, `labelSelectorPath: .status.hpaPodSelector`, which the
controller sets to the leaders: `worker-index=0`, pkg/controllers/leaderworkerset_controller.go).
"""

from __future__ import annotations

from typing import Any

from components.kubernetes.manifests import labels
from components.kubernetes.manifests.pod import engine_pod_template
from components.plan import DeploymentPlan, SlotPlan

API_VERSION = "leaderworkerset.x-k8s.io/v1"
KIND = "LeaderWorkerSet"


def leader_worker_set(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, Any]:
    group = slot.group
    assert group is not None, f"{slot.workload_name} runs one pod per replica"
    part = deployment.on_kubernetes
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": slot.workload_name,
            "namespace": deployment.namespace,
            "labels": labels.for_workload(deployment, slot),
        },
        "spec": {
            # Groups, not pods; an autoscaler owns the count when there is one.
            **({"replicas": slot.replicas} if slot.autoscaling is None else {}),
            "leaderWorkerTemplate": {
                "size": group.size,
                # A group is one engine: a lost pod leaves the others waiting on it forever,
                # so any pod's restart recreates the whole group.
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": engine_pod_template(deployment, slot, "leader"),
                "workerTemplate": engine_pod_template(deployment, slot, "worker"),
            },
            # LWS rolls whole groups, within the same surge settings as a Deployment's pods.
            "rolloutStrategy": {
                "type": "RollingUpdate",
                "rollingUpdateConfiguration": {
                    "maxSurge": part.max_surge,
                    "maxUnavailable": part.max_unavailable,
                },
            },
        },
    }
