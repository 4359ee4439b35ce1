"""GPU node placement: node labels per cloud, tolerations for GPU taints."""

from __future__ import annotations

from dataclasses import dataclass, field

from components.catalog.gpus import AKS_GPU_TOLERATION, GPU_TOLERATIONS, GpuType, NodeRequirement


@dataclass(frozen=True)
class Placement:
    # Single-valued requirements: nodeSelector. Multi-valued: required node affinity (In).
    node_selector: dict[str, str] = field(default_factory=dict)
    node_affinity: tuple[NodeRequirement, ...] = ()
    tolerations: tuple[dict[str, str], ...] = ()


def gpu_placement(gpu: GpuType, cloud: str) -> Placement | None:
    """None when the cloud does not offer this GPU type."""
    requirements = gpu.placement.get(cloud)  # type: ignore[call-overload]
    if requirements is None:
        return None
    selector = {r.key: r.values[0] for r in requirements if len(r.values) == 1}
    affinity = tuple(r for r in requirements if len(r.values) > 1)
    tolerations = GPU_TOLERATIONS[gpu.vendor]
    if cloud == "aks":
        tolerations = (*tolerations, AKS_GPU_TOLERATION)
    return Placement(selector, affinity, tolerations)


def clouds_offering(gpu: GpuType) -> list[str]:
    return sorted(gpu.placement)
