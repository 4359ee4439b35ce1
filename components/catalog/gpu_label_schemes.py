"""Which node labels select a GPU type: `kubernetes.cloud` plus `kubernetes.gpuLabels`.

One cloud can label GPU nodes in several ways. On EKS, self-managed Karpenter writes
`karpenter.k8s.aws/instance-gpu-name`, Auto Mode writes `eks.amazonaws.com/instance-gpu-name`
(https://docs.aws.amazon.com/eks/latest/userguide/create-node-pool.html), and managed node
groups write no GPU label at all, only `node.kubernetes.io/instance-type`. GPU Feature
Discovery (`nvidia.com/gpu.product`) works on any cloud where it runs (the GPU Operator
deploys it: https://github.com/NVIDIA/k8s-device-plugin#gpu-feature-discovery).
"""

from __future__ import annotations

from typing import Literal

from components.catalog.gpus import LabelScheme

GpuLabels = Literal["karpenter", "auto-mode", "instance-type", "gpu-feature-discovery"]
GFD = "gpu-feature-discovery"

# Per cloud: the `gpuLabels` values it accepts and the scheme each selects; None: the default.
_SCHEMES: dict[str, dict[str | None, LabelScheme]] = {
    "gke": {None: "gke", GFD: "generic"},
    "eks": {
        None: "eks",
        "karpenter": "eks",
        "auto-mode": "eks-auto-mode",
        "instance-type": "eks-instance-type",
        GFD: "generic",
    },
    "aks": {None: "aks", GFD: "generic"},
    "generic": {None: "generic", GFD: "generic"},
}


def gpu_labels_problem(cloud: str, gpu_labels: str | None) -> str | None:
    """Why this cloud does not label nodes that way, or None."""
    schemes = _SCHEMES[cloud]
    if gpu_labels in schemes:
        return None
    offered = ", ".join(key for key in schemes if key is not None)
    return f"{cloud} nodes do not carry {gpu_labels} labels (offered: {offered})"


def label_scheme(cloud: str, gpu_labels: str | None) -> LabelScheme:
    """The scheme that selects GPUs (the combination was checked by the spec)."""
    return _SCHEMES[cloud][gpu_labels]
