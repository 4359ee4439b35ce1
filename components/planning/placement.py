"""Node placement: the GPU's node labels per cloud, merged with the stack's own placement.

Everything must hold at once (node selectors and required node affinity are ANDed), so
two requirements on one label with no common value can never schedule: that is a
stack-file error, not a Pending pod.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from components.catalog.gpus import AKS_GPU_TOLERATION, GPU_TOLERATIONS, GpuType, NodeRequirement
from components.spec import PlacementSpec

# The label each cloud puts on nodes of a node pool.
NODE_GROUP_LABELS = {
    "gke": "cloud.google.com/gke-nodepool",
    "eks": "karpenter.sh/nodepool",
    "aks": "kubernetes.azure.com/agentpool",
}
# Spot capacity: the label and the taint (if the cloud taints spot nodes) per cloud.
SPOT_LABELS = {
    "gke": ("cloud.google.com/gke-spot", "true"),
    "eks": ("karpenter.sh/capacity-type", "spot"),
    "aks": ("kubernetes.azure.com/scalesetpriority", "spot"),
}


@dataclass(frozen=True)
class Placement:
    # Single-valued requirements: nodeSelector. Others: required node affinity.
    node_selector: dict[str, str] = field(default_factory=dict)
    node_affinity: tuple[NodeRequirement, ...] = ()
    tolerations: tuple[dict[str, str], ...] = ()
    # The stack's own affinity object (pod affinity, extra node terms), merged on render.
    affinity: dict[str, Any] | None = None
    runtime_class: str | None = None


def gpu_placement(gpu: GpuType, scheme: str) -> Placement | None:
    """None when the label scheme (a cloud's, or components/catalog/gpu_label_schemes.py)
    has no label for this GPU type."""
    requirements = gpu.placement.get(scheme)  # type: ignore[call-overload]
    if requirements is None:
        return None
    tolerations = GPU_TOLERATIONS[gpu.vendor]
    if scheme == "aks":
        tolerations = (*tolerations, AKS_GPU_TOLERATION)
    return _from_requirements(list(requirements), list(tolerations))


def clouds_offering(gpu: GpuType) -> list[str]:
    return sorted(gpu.placement)


def merge_placement(
    gpu: Placement | None, spec: PlacementSpec, cloud: str
) -> Placement | list[tuple[tuple[str, ...], str]]:
    """The GPU's placement with the stack's added; or (key path, message) problems."""
    problems: list[tuple[tuple[str, ...], str]] = []
    requirements = [
        NodeRequirement(key, (value,)) for key, value in (gpu.node_selector if gpu else {}).items()
    ]
    requirements += list(gpu.node_affinity if gpu else ())
    tolerations = [dict(t) for t in (gpu.tolerations if gpu else ())]

    if spec.node_group:
        label = NODE_GROUP_LABELS.get(cloud)
        if label is None:
            problems.append(
                (("nodeGroup",), f"{cloud} has no node-pool label: use placement.nodeSelector")
            )
        else:
            requirements.append(NodeRequirement(label, (spec.node_group,)))
    if spec.capacity:
        spot = SPOT_LABELS.get(cloud)
        if spot is None:
            problems.append(
                (("capacity",), f"{cloud} has no capacity-type label: use placement.nodeSelector")
            )
        elif spec.capacity == "spot":
            requirements.append(NodeRequirement(spot[0], (spot[1],)))
            # GKE and AKS taint spot nodes (where configured): tolerate it.
            tolerations.append(
                {"key": spot[0], "operator": "Equal", "value": spot[1], "effect": "NoSchedule"}
            )
        else:
            requirements.append(NodeRequirement(spot[0], (spot[1],), operator="NotIn"))
    for key, value in spec.node_selector.items():
        requirements.append(NodeRequirement(key, (value,)))
    tolerations += [t.model_dump(exclude_none=True, by_alias=True) for t in spec.tolerations]

    problems += _conflicts(requirements)
    if problems:
        return problems
    placement = _from_requirements(requirements, tolerations)
    return Placement(
        node_selector=placement.node_selector,
        node_affinity=placement.node_affinity,
        tolerations=placement.tolerations,
        affinity=copy.deepcopy(spec.affinity) if spec.affinity else None,
        runtime_class=spec.runtime_class,
    )


def _from_requirements(
    requirements: list[NodeRequirement], tolerations: list[dict[str, str]]
) -> Placement:
    selector: dict[str, str] = {}
    affinity: list[NodeRequirement] = []
    for requirement in requirements:
        if requirement.operator == "In" and len(requirement.values) == 1:
            selector.setdefault(requirement.key, requirement.values[0])
        else:
            affinity.append(requirement)
    unique_tolerations = tuple(
        dict(items) for items in dict.fromkeys(tuple(sorted(t.items())) for t in tolerations)
    )
    return Placement(selector, tuple(affinity), unique_tolerations)


def _conflicts(requirements: list[NodeRequirement]) -> list[tuple[tuple[str, ...], str]]:
    """Requirements on one label that no node can satisfy together."""
    allowed: dict[str, set[str]] = {}
    excluded: dict[str, set[str]] = {}
    for requirement in requirements:
        if requirement.operator == "NotIn":
            excluded.setdefault(requirement.key, set()).update(requirement.values)
        else:
            values = set(requirement.values)
            allowed[requirement.key] = allowed.get(requirement.key, values) & values
    problems = []
    for key, values in allowed.items():
        if not values - excluded.get(key, set()):
            problems.append(
                (
                    ("nodeSelector",),
                    f"{key}: the GPU, node group, capacity and node selector ask for values "
                    "no node can have at once",
                )
            )
    return problems
