"""KWOK nodes that satisfy a stack's placement, derived from its plan.

Every serving slot asks for nodes through its plan's placement (node selector, required node
affinity, tolerations) and resources (GPU resource and count). Each distinct ask becomes one
node group: nodes labelled so the selector and affinity hold, tainted as the tolerations
allow (GPU taints, spot taints), offering the GPU resource (8 per node unless a pod asks for
more), spread over three zones, enough of them for every replica plus a rollout's surge. Two
untainted CPU nodes take loader Jobs and CPU-only engines.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from components.plan import StackPlan
from components.planning.placement import Placement
from tests.e2e.cluster import KWOK_NODE_ANNOTATION

GPUS_PER_NODE = 8
ZONES = ("zone-a", "zone-b", "zone-c")
# Generous, so that only GPUs and placement decide where pods go.
NODE_CPU = "256"
NODE_MEMORY = "4Ti"
NODE_PODS = "250"


@dataclass(frozen=True)
class NodeGroup:
    name: str
    labels: tuple[tuple[str, str], ...]
    taints: tuple[tuple[str, str, str], ...]
    gpu_resource: str | None
    gpus_per_node: int
    count: int


def node_groups(plans: Iterable[StackPlan], spare_nodes: int = 1) -> list[NodeGroup]:
    """One group per distinct placement ask in the plans, plus the CPU group."""
    asks: dict[tuple[Any, ...], tuple[int, int]] = {}
    slots = [slot for plan in plans for deployment in plan.deployments for slot in deployment.slots]
    for slot in slots:
        floor = slot.autoscaling.min_replicas if slot.autoscaling else 0
        # A replica of a multi-node slot is a group: one pod per node of it.
        replicas = max(slot.replicas, floor, 1) * (slot.group.size if slot.group else 1)
        key = (
            _labels_for(slot.placement),
            _taints_for(slot.placement),
            slot.resources.gpu_resource,
        )
        gpus, pods = asks.get(key, (0, 0))
        asks[key] = (max(gpus, slot.resources.gpu_count), pods + replicas)
    groups = []
    for index, ((labels, taints, resource), (gpus, pods)) in enumerate(sorted(asks.items())):
        if not labels and not taints and resource is None:
            continue  # CPU-only pods land on the CPU group
        per_node = max(GPUS_PER_NODE, gpus) if resource else 0
        pods_per_node = per_node // gpus if resource and gpus else pods
        count = math.ceil(pods / max(pods_per_node, 1)) + spare_nodes
        groups.append(NodeGroup(f"group-{index}", labels, taints, resource, per_node, count))
    groups.append(NodeGroup("cpu", (), (), None, 0, 2))
    return groups


def node_documents(groups: list[NodeGroup]) -> list[dict[str, Any]]:
    documents = []
    for group in groups:
        for number in range(group.count):
            name = f"kwok-{group.name}-{number}"
            labels = {
                **dict(group.labels),
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/zone": ZONES[number % len(ZONES)],
                "type": "kwok",
            }
            capacity = {"cpu": NODE_CPU, "memory": NODE_MEMORY, "pods": NODE_PODS}
            if group.gpu_resource:
                capacity[group.gpu_resource] = str(group.gpus_per_node)
            documents.append(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "labels": labels,
                        "annotations": {KWOK_NODE_ANNOTATION[0]: KWOK_NODE_ANNOTATION[1]},
                    },
                    "spec": {
                        "taints": [
                            {"key": key, "value": value, "effect": effect}
                            for key, value, effect in group.taints
                        ]
                    },
                    "status": {"capacity": capacity, "allocatable": capacity},
                }
            )
    return documents


def describe(groups: list[NodeGroup]) -> list[dict[str, Any]]:
    """The groups as data, for the e2e-stack summary."""
    return [
        {
            "group": group.name,
            "nodes": group.count,
            "labels": dict(group.labels),
            "taints": [f"{k}={v}:{e}" for k, v, e in group.taints],
            "gpus": {group.gpu_resource: group.gpus_per_node} if group.gpu_resource else {},
        }
        for group in groups
    ]


def _labels_for(placement: Placement | None) -> tuple[tuple[str, str], ...]:
    """Labels that make the selector and every required affinity term hold."""
    if placement is None:
        return ()
    labels = dict(placement.node_selector)
    for requirement in placement.node_affinity:
        if requirement.operator == "In":
            labels.setdefault(requirement.key, requirement.values[0])
        elif requirement.operator == "Exists":
            labels.setdefault(requirement.key, "true")
        # NotIn and DoesNotExist hold on a node without the label.
    return tuple(sorted(labels.items()))


def _taints_for(placement: Placement | None) -> tuple[tuple[str, str, str], ...]:
    """A taint for each toleration the pods carry: nodes only they may use, as on a cloud."""
    if placement is None:
        return ()
    taints = set()
    for toleration in placement.tolerations:
        effect = toleration.get("effect") or "NoSchedule"
        if toleration.get("operator") == "Exists":
            taints.add((toleration["key"], "present", effect))
        else:
            taints.add((toleration["key"], toleration.get("value", ""), effect))
    return tuple(sorted(taints))
