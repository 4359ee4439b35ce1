"""GPU types: memory, vendor, resource name and how each node label scheme names them.

Memory is what the driver reports (nvidia-smi's total MiB; rocm-smi's VRAM bytes for AMD),
not the marketing "GB": the fit check computes in GiB and a 24 GB L4 has 22.5 GiB.
Sources, per fact:
- nvidia-smi / GFD `nvidia.com/gpu.memory` totals: NVIDIA k8s-device-plugin GFD README and
  public nvidia-smi dumps, collected in shared/GPU_CATALOG.md section 1
  (https://github.com/NVIDIA/k8s-device-plugin/blob/main/docs/gpu-feature-discovery/README.md).
- MI300X: rocm-smi `VRAM Total Memory (B): 205822885888` = 196288 MiB
  (https://rocm.docs.amd.com/en/latest/reference/gpu-arch-specs.html lists 192 GB).
- V100: nvidia-smi reports 16160 MiB for 16 GB (newer drivers also 16384: the smaller is the
  safe side) and 32510 MiB for 32 GB (R410 drivers: 32480,
  https://blog.cachecha.com/csdn/kunhe0512/126265050.html); GFD product names
  `Tesla-V100-SXM2-16GB` etc. are nvidia-smi's names with `-` for spaces (GFD README above).
- MI325X: 256 GB HBM3E (https://rocm.docs.amd.com/en/latest/reference/gpu-arch-specs.html;
  rocm-smi on MI325X: https://docs.vultr.com/inference-cookbook/rocm/benchmarks/gpu-memory-profiling).
  No rocm-smi total was found published: 256 GiB is used, the 0.9 usable fraction covers
  a driver reserve like the MI300X's 320 MiB.
- fp4: NVIDIA's Blackwell tensor cores compute in FP4/NVFP4 ("NVIDIA Blackwell provides ...
  FP6, and FP4 data formats"; Ampere and Hopper's smallest is INT8/FP8:
  https://developer.nvidia.com/blog/introducing-nvfp4-for-efficient-and-accurate-low-precision-inference/,
  https://www.nvidia.com/en-us/data-center/technologies/blackwell-architecture/). AMD: the
  MI300X and MI325X are CDNA 3, whose matrix cores stop at FP8; FP4/FP6 came with CDNA 4
  (MI350X, MI355X): https://rocm.docs.amd.com/projects/rocprofiler-compute/en/latest/conceptual/cdna/cdna-performance-model.html
- GKE accelerator labels: https://cloud.google.com/kubernetes-engine/docs/how-to/gpus
- Karpenter labels (self-managed Karpenter on EKS):
  https://karpenter.sh/docs/reference/instance-types/
- EKS Auto Mode labels (`eks.amazonaws.com/instance-gpu-name`, `-gpu-memory` in MiB):
  https://docs.aws.amazon.com/eks/latest/userguide/create-node-pool.html
- EKS managed node groups carry no GPU-model label: the instance type is the label
  (`node.kubernetes.io/instance-type`, https://kubernetes.io/docs/reference/labels-annotations-taints/);
  instance families per GPU: https://aws.amazon.com/ec2/instance-types/#Accelerated_Computing
- AKS: only `kubernetes.azure.com/accelerator=nvidia`, so the VM size selects the model
  (https://learn.microsoft.com/azure/aks/use-labels). V100: NDv2 (Standard_ND40rs_v2, 8 x
  V100 32 GB, https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/nd-family);
  the 16 GB NCv3 sizes were retired on 2025-09-30, so AKS cannot select a V100-16GB:
  https://learn.microsoft.com/azure/virtual-machines/ncv3-nc6s-nc12s-nc24s-retirement
- GPU Feature Discovery `nvidia.com/gpu.product` (any cloud where GFD or the GPU Operator
  runs) and the ROCm node labeller's `amd.com/gpu.device-id`
  (https://github.com/ROCm/k8s-device-plugin/blob/master/cmd/k8s-node-labeller/main.go),
  the sysfs PCI id without `0x`; ids per product in the labeller's own table
  (https://github.com/ROCm/k8s-device-plugin/blob/master/cmd/k8s-node-labeller/amdgpu.ids).
- Karpenter's `v100` instance-gpu-memory (16384 p3, 32768 p3dn) is only in its v1.12 docs
  (https://karpenter.sh/v1.12/reference/instance-types/); GKE offers the 16 GB V100 on N1
  (https://cloud.google.com/kubernetes-engine/docs/how-to/gpus). EKS Auto Mode is left out
  for V100: its docs do not show it launching p3 (Xen-based) instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Vendor = Literal["nvidia", "amd"]
# How nodes are labelled: each cloud's own scheme, EKS's three, and GPU Feature Discovery
# ("generic": GFD on NVIDIA, the ROCm node labeller on AMD). See gpu_label_schemes.py.
LabelScheme = Literal["gke", "eks", "eks-auto-mode", "eks-instance-type", "aks", "generic"]

GKE_ACCELERATOR = "cloud.google.com/gke-accelerator"
KARPENTER_GPU_NAME = "karpenter.k8s.aws/instance-gpu-name"
KARPENTER_GPU_MEMORY = "karpenter.k8s.aws/instance-gpu-memory"
AUTO_MODE_GPU_NAME = "eks.amazonaws.com/instance-gpu-name"
AUTO_MODE_GPU_MEMORY = "eks.amazonaws.com/instance-gpu-memory"
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
    # Total memory as nvidia-smi (or rocm-smi) reports it, in MiB.
    memory_mib: int
    # Ampere and newer compute in bfloat16; T4 and V100 do not.
    bf16: bool
    fp8: bool
    # Computes in 4-bit floating point (NVFP4 tensor cores): Blackwell and newer.
    fp4: bool
    # Node requirements per label scheme; a scheme missing here cannot select this GPU.
    placement: dict[LabelScheme, tuple[NodeRequirement, ...]] = field(default_factory=dict)

    @property
    def memory_gib(self) -> float:
        return self.memory_mib / 1024

    @property
    def resource_name(self) -> str:
        return "amd.com/gpu" if self.vendor == "amd" else "nvidia.com/gpu"


def _req(key: str, *values: str) -> NodeRequirement:
    return NodeRequirement(key, values)


def _aks(*vm_sizes: str) -> tuple[NodeRequirement, ...]:
    # AKS labels only the vendor; the GPU model is known from the VM size.
    return (_req(AKS_ACCELERATOR, "nvidia"), _req(INSTANCE_TYPE, *vm_sizes))


def _eks(
    name: str, memory_mib: str | None, *instance_types: str, auto_mode: bool = True
) -> dict[LabelScheme, tuple[NodeRequirement, ...]]:
    """Karpenter, Auto Mode (same values, EKS's own prefix) and managed node groups."""
    karpenter = [_req(KARPENTER_GPU_NAME, name)]
    auto_mode_labels = [_req(AUTO_MODE_GPU_NAME, name)]
    if memory_mib:  # `a100` and `v100` name both sizes: the memory label tells them apart
        karpenter.append(_req(KARPENTER_GPU_MEMORY, memory_mib))
        auto_mode_labels.append(_req(AUTO_MODE_GPU_MEMORY, memory_mib))
    schemes: dict[LabelScheme, tuple[NodeRequirement, ...]] = {
        "eks": tuple(karpenter),
        "eks-instance-type": (_req(INSTANCE_TYPE, *instance_types),),
    }
    if auto_mode:
        schemes["eks-auto-mode"] = tuple(auto_mode_labels)
    return schemes


def _sizes(family: str, *sizes: str) -> tuple[str, ...]:
    return tuple(f"{family}.{size}" for size in sizes)


_G_SIZES = ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")


GPUS: dict[str, GpuType] = {
    gpu.name: gpu
    for gpu in (
        GpuType(
            "T4",
            "nvidia",
            15360,
            bf16=False,
            fp8=False,
            fp4=False,
            placement={
                "gke": (_req(GKE_ACCELERATOR, "nvidia-tesla-t4"),),
                **_eks("t4", None, *_sizes("g4dn", *_G_SIZES[:-1], "metal")),
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
            "V100-16GB",
            "nvidia",
            16160,
            bf16=False,
            fp8=False,
            fp4=False,
            placement={
                # GKE's V100 (N1) is the 16 GB one; no AKS size is left (NCv3 retired).
                "gke": (_req(GKE_ACCELERATOR, "nvidia-tesla-v100"),),
                **_eks(
                    "v100",
                    "16384",
                    *_sizes("p3", "2xlarge", "8xlarge", "16xlarge"),
                    auto_mode=False,
                ),
                "generic": (_req(NVIDIA_PRODUCT, "Tesla-V100-SXM2-16GB", "Tesla-V100-PCIE-16GB"),),
            },
        ),
        GpuType(
            "V100-32GB",
            "nvidia",
            32510,
            bf16=False,
            fp8=False,
            fp4=False,
            placement={
                **_eks("v100", "32768", "p3dn.24xlarge", auto_mode=False),
                "aks": _aks("Standard_ND40rs_v2"),
                "generic": (_req(NVIDIA_PRODUCT, "Tesla-V100-SXM2-32GB", "Tesla-V100-PCIE-32GB"),),
            },
        ),
        GpuType(
            "L4",
            "nvidia",
            23034,
            bf16=True,
            fp8=True,
            fp4=False,
            placement={
                "gke": (_req(GKE_ACCELERATOR, "nvidia-l4"),),
                **_eks(
                    "l4",
                    None,
                    *_sizes("g6", *_G_SIZES, "48xlarge"),
                    *_sizes("gr6", "4xlarge", "8xlarge"),
                ),
                "generic": (_req(NVIDIA_PRODUCT, "NVIDIA-L4"),),
            },
        ),
        GpuType(
            "A10G",
            "nvidia",
            23028,
            bf16=True,
            fp8=False,
            fp4=False,
            placement={
                **_eks("a10g", None, *_sizes("g5", *_G_SIZES, "48xlarge")),
                "generic": (_req(NVIDIA_PRODUCT, "NVIDIA-A10G"),),
            },
        ),
        GpuType(
            "L40S",
            "nvidia",
            46068,
            bf16=True,
            fp8=True,
            fp4=False,
            placement={
                **_eks("l40s", None, *_sizes("g6e", *_G_SIZES, "48xlarge")),
                "generic": (_req(NVIDIA_PRODUCT, "NVIDIA-L40S"),),
            },
        ),
        GpuType(
            "A100-40GB",
            "nvidia",
            # Current drivers; R470 reported 40536.
            40960,
            bf16=True,
            fp8=False,
            fp4=False,
            placement={
                "gke": (_req(GKE_ACCELERATOR, "nvidia-tesla-a100"),),
                **_eks("a100", "40960", "p4d.24xlarge"),
                "aks": _aks("Standard_ND96asr_v4"),
                "generic": (_req(NVIDIA_PRODUCT, "NVIDIA-A100-SXM4-40GB", "A100-SXM4-40GB"),),
            },
        ),
        GpuType(
            "A100-80GB",
            "nvidia",
            81920,
            bf16=True,
            fp8=False,
            fp4=False,
            placement={
                "gke": (_req(GKE_ACCELERATOR, "nvidia-a100-80gb"),),
                **_eks("a100", "81920", "p4de.24xlarge"),
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
            # SXM and PCIe; the 94 GB NVL (95830 MiB) is sized as the smaller one.
            81559,
            bf16=True,
            fp8=True,
            fp4=False,
            placement={
                # A3 High/Edge and A3 Mega carry different accelerator names.
                "gke": (_req(GKE_ACCELERATOR, "nvidia-h100-80gb", "nvidia-h100-mega-80gb"),),
                **_eks("h100", None, "p5.48xlarge", "p5.4xlarge"),
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
            143771,
            bf16=True,
            fp8=True,
            fp4=False,
            placement={
                "gke": (_req(GKE_ACCELERATOR, "nvidia-h200-141gb"),),
                **_eks("h200", None, "p5e.48xlarge", "p5en.48xlarge"),
                "aks": _aks("Standard_ND96isr_H200_v5"),
                "generic": (_req(NVIDIA_PRODUCT, "NVIDIA-H200"),),
            },
        ),
        GpuType(
            "B200",
            "nvidia",
            183359,
            bf16=True,
            fp8=True,
            fp4=True,
            placement={
                "gke": (_req(GKE_ACCELERATOR, "nvidia-b200"),),
                **_eks("b200", None, "p6-b200.48xlarge"),
                "generic": (_req(NVIDIA_PRODUCT, "NVIDIA-B200"),),
            },
        ),
        GpuType(
            "MI300X",
            "amd",
            196288,
            bf16=True,
            fp8=True,
            fp4=False,
            placement={
                "aks": (_req(INSTANCE_TYPE, "Standard_ND96isr_MI300X_v5"),),
                # 74a1 is the MI300X; 74b5 is its virtual function (cloud VMs).
                "generic": (_req(AMD_DEVICE_ID, "74a1", "74b5"),),
            },
        ),
        GpuType(
            "MI325X",
            "amd",
            262144,
            bf16=True,
            fp8=True,
            fp4=False,
            placement={
                # No GKE, EKS or AKS size offers it: only the ROCm labeller selects it.
                # 74a5 is the MI325X; 74b9 is its virtual function.
                "generic": (_req(AMD_DEVICE_ID, "74a5", "74b9"),),
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
