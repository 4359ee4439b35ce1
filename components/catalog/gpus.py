"""GPU types: memory, vendor, resource name and how each cloud labels its nodes.

Label values come from shared/GPU_CATALOG.md (GKE docs, Karpenter's instance-type
reference, AKS VM sizes, NVIDIA GPU Feature Discovery, the ROCm node labeller).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Vendor = Literal["nvidia", "amd"]
CloudName = Literal["gke", "eks", "aks", "generic"]

GKE_ACCELERATOR = "cloud.google.com/gke-accelerator"
KARPENTER_GPU_NAME = "karpenter.k8s.aws/instance-gpu-name"
KARPENTER_GPU_MEMORY = "karpenter.k8s.aws/instance-gpu-memory"
AKS_ACCELERATOR = "kubernetes.azure.com/accelerator"
INSTANCE_TYPE = "node.kubernetes.io/instance-type"
NVIDIA_PRODUCT = "nvidia.com/gpu.product"
AMD_DEVICE_ID = "amd.com/gpu.device-id"


@dataclass(frozen=True)
class NodeRequirement:
    """A node label the pod needs: one value -> nodeSelector, several -> node affinity `In`."""

    key: str
    values: tuple[str, ...]
    # "In" or "NotIn" (on-demand capacity: anything but spot).
    operator: str = "In"


@dataclass(frozen=True)
class GpuType:
    name: str
    vendor: Vendor
    memory_gib: float
    # Ampere and newer compute in bfloat16; T4 and V100 do not.
    bf16: bool
    fp8: bool
    # Node requirements per cloud; a cloud missing here does not offer this GPU.
    placement: dict[CloudName, tuple[NodeRequirement, ...]] = field(default_factory=dict)

    @property
    def resource_name(self) -> str:
        return "amd.com/gpu" if self.vendor == "amd" else "nvidia.com/gpu"


def _req(key: str, *values: str) -> NodeRequirement:
    return NodeRequirement(key, values)


def _aks(*vm_sizes: str) -> tuple[NodeRequirement, ...]:
    # AKS labels only the vendor; the GPU model is known from the VM size.
    return (_req(AKS_ACCELERATOR, "nvidia"), _req(INSTANCE_TYPE, *vm_sizes))


GPUS: dict[str, GpuType] = {
    gpu.name: gpu
    for gpu in (
        GpuType(
            "T4",
            "nvidia",
            16,
            bf16=False,
            fp8=False,
            placement={
                "gke": (_req(GKE_ACCELERATOR, "nvidia-tesla-t4"),),
                "eks": (_req(KARPENTER_GPU_NAME, "t4"),),
                "aks": _aks(
                    "Standard_NC4as_T4_v3",
                    "Standard_NC8as_T4_v3",
                    "Standard_NC16as_T4_v3",
                    "Standard_NC64as_T4_v3",
                ),
                "generic": (_req(NVIDIA_PRODUCT, "Tesla-T4"),),
            },
        ),
        GpuType(
            "L4",
            "nvidia",
            24,
            bf16=True,
            fp8=True,
            placement={
                "gke": (_req(GKE_ACCELERATOR, "nvidia-l4"),),
                "eks": (_req(KARPENTER_GPU_NAME, "l4"),),
                "generic": (_req(NVIDIA_PRODUCT, "NVIDIA-L4"),),
            },
        ),
        GpuType(
            "A10G",
            "nvidia",
            24,
            bf16=True,
            fp8=False,
            placement={
                "eks": (_req(KARPENTER_GPU_NAME, "a10g"),),
                "generic": (_req(NVIDIA_PRODUCT, "NVIDIA-A10G"),),
            },
        ),
        GpuType(
            "L40S",
            "nvidia",
            48,
            bf16=True,
            fp8=True,
            placement={
                "eks": (_req(KARPENTER_GPU_NAME, "l40s"),),
                "generic": (_req(NVIDIA_PRODUCT, "NVIDIA-L40S"),),
            },
        ),
        GpuType(
            "A100-40GB",
            "nvidia",
            40,
            bf16=True,
            fp8=False,
            placement={
                "gke": (_req(GKE_ACCELERATOR, "nvidia-tesla-a100"),),
                # Karpenter's `a100` covers both sizes: the memory label tells them apart.
                "eks": (_req(KARPENTER_GPU_NAME, "a100"), _req(KARPENTER_GPU_MEMORY, "40960")),
                "aks": _aks("Standard_ND96asr_v4"),
                "generic": (_req(NVIDIA_PRODUCT, "NVIDIA-A100-SXM4-40GB", "A100-SXM4-40GB"),),
            },
        ),
        GpuType(
            "A100-80GB",
            "nvidia",
            80,
            bf16=True,
            fp8=False,
            placement={
                "gke": (_req(GKE_ACCELERATOR, "nvidia-a100-80gb"),),
                "eks": (_req(KARPENTER_GPU_NAME, "a100"), _req(KARPENTER_GPU_MEMORY, "81920")),
                "aks": _aks(
                    "Standard_NC24ads_A100_v4",
                    "Standard_NC48ads_A100_v4",
                    "Standard_NC96ads_A100_v4",
                    "Standard_ND96amsr_A100_v4",
                ),
                "generic": (
                    _req(NVIDIA_PRODUCT, "NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-80GB-PCIe"),
                ),
            },
        ),
        GpuType(
            "H100",
            "nvidia",
            80,
            bf16=True,
            fp8=True,
            placement={
                # A3 High/Edge and A3 Mega carry different accelerator names.
                "gke": (_req(GKE_ACCELERATOR, "nvidia-h100-80gb", "nvidia-h100-mega-80gb"),),
                "eks": (_req(KARPENTER_GPU_NAME, "h100"),),
                "aks": _aks(
                    "Standard_ND96isr_H100_v5",
                    "Standard_NC40ads_H100_v5",
                    "Standard_NC80adis_H100_v5",
                ),
                "generic": (
                    _req(
                        NVIDIA_PRODUCT,
                        "NVIDIA-H100-80GB-HBM3",
                        "NVIDIA-H100-PCIe",
                        "NVIDIA-H100-NVL",
                    ),
                ),
            },
        ),
        GpuType(
            "H200",
            "nvidia",
            141,
            bf16=True,
            fp8=True,
            placement={
                "gke": (_req(GKE_ACCELERATOR, "nvidia-h200-141gb"),),
                "eks": (_req(KARPENTER_GPU_NAME, "h200"),),
                "aks": _aks("Standard_ND96isr_H200_v5"),
                "generic": (_req(NVIDIA_PRODUCT, "NVIDIA-H200"),),
            },
        ),
        GpuType(
            "B200",
            "nvidia",
            180,
            bf16=True,
            fp8=True,
            placement={
                "gke": (_req(GKE_ACCELERATOR, "nvidia-b200"),),
                "eks": (_req(KARPENTER_GPU_NAME, "b200"),),
                "generic": (_req(NVIDIA_PRODUCT, "NVIDIA-B200"),),
            },
        ),
        GpuType(
            "MI300X",
            "amd",
            192,
            bf16=True,
            fp8=True,
            placement={
                "aks": (_req(INSTANCE_TYPE, "Standard_ND96isr_MI300X_v5"),),
                # 74a1 is the MI300X; 74b5 is its virtual function (cloud VMs).
                "generic": (_req(AMD_DEVICE_ID, "74a1", "74b5"),),
            },
        ),
    )
}

# Taints GPU node pools commonly carry; `Exists` matches any value teams choose.
GPU_TOLERATIONS: dict[Vendor, tuple[dict[str, str], ...]] = {
    "nvidia": ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},),
    "amd": ({"key": "amd.com/gpu", "operator": "Exists", "effect": "NoSchedule"},),
}
# The AKS docs' convention for user-tainted GPU pools.
AKS_GPU_TOLERATION = {"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}


def find_gpu(name: str) -> GpuType | None:
    """Case-insensitive lookup: `h100` and `H100` name the same GPU."""
    by_upper = {key.upper(): gpu for key, gpu in GPUS.items()}
    return by_upper.get(name.upper().replace(" ", "-"))
