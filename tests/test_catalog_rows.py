"""The V100 (16 GB, 32 GB) and MI325X rows: memory fit, placement per cloud, precision."""

from __future__ import annotations

from typing import Any

import pytest

from components.catalog.gpus import GPUS
from components.planning.memory_fit import check_gpu_fit
from components.planning.placement import gpu_placement
from components.planning.precision import resolve_precision
from tests.support.planned_stacks import plan_stack, stack_problems

COUNTS = (1, 2, 4, 8)
SAFETENSORS = {"source": "hf://Qwen/Qwen2.5-3B-Instruct", "parameters": "3B"}


def _stack(deployment: dict[str, Any], **kubernetes: Any) -> dict[str, Any]:
    base = {"name": "chat", "engine": "vllm", "model": SAFETENSORS}
    return {
        "environment": "dev",
        "target": "kubernetes",
        "kubernetes": kubernetes or {"cloud": "generic"},
        "deployments": [base | deployment],
    }


# -- the rows as the drivers report them ---------------------------------------------------


@pytest.mark.parametrize(
    ("gpu", "mib", "vendor", "bf16", "fp8"),
    [
        ("V100-16GB", 16160, "nvidia", False, False),
        ("V100-32GB", 32510, "nvidia", False, False),
        ("MI325X", 262144, "amd", True, True),
    ],
)
def test_new_rows_hold_the_reported_memory_and_precisions(
    gpu: str, mib: int, vendor: str, bf16: bool, fp8: bool
) -> None:
    row = GPUS[gpu]
    assert (row.memory_mib, row.vendor, row.bf16, row.fp8) == (mib, vendor, bf16, fp8)
    assert row.resource_name == ("amd.com/gpu" if vendor == "amd" else "nvidia.com/gpu")


def test_auto_precision_on_a_v100_is_fp16() -> None:
    assert resolve_precision("auto", GPUS["V100-16GB"]) == "fp16"
    plan = plan_stack(_stack({"gpu": {"type": "V100-16GB", "count": 1}}))
    args = plan.deployments[0].slots[0].engine.args
    assert args[args.index("--dtype") + 1] == "float16"


# -- memory fit -----------------------------------------------------------------------------


def test_a_3b_model_fits_a_v100_16gb_and_a_7b_one_needs_two_or_a_bigger_gpu() -> None:
    assert check_gpu_fit(3, "fp16", GPUS["V100-16GB"], 1, COUNTS) is None
    problem = check_gpu_fit(7, "fp16", GPUS["V100-16GB"], 1, COUNTS)
    assert problem is not None
    assert "1 x V100-16GB has 14 GiB usable" in problem
    # The smallest NVIDIA GPU that holds ~17 GiB at fp16 is the A10G (22.5 GiB).
    assert "gpu.count: 2" in problem and "gpu.type: A10G" in problem


def test_a_bigger_gpu_is_suggested_only_if_it_computes_at_that_precision() -> None:
    # 11B needs ~26 GiB: a V100-32GB holds it at fp16 but cannot run bf16.
    at_fp16 = check_gpu_fit(11, "fp16", GPUS["L4"], 1, (1,))
    at_bf16 = check_gpu_fit(11, "bf16", GPUS["L4"], 1, (1,))
    assert at_fp16 is not None and "gpu.type: V100-32GB" in at_fp16
    assert at_bf16 is not None and "V100-32GB" not in at_bf16
    assert "gpu.type: A100-40GB" in at_bf16


def test_a_model_too_big_for_an_mi300x_is_pointed_to_the_mi325x() -> None:
    # 90B at bf16: ~203 GiB; an MI300X has 173 GiB usable, an MI325X 230.
    problem = check_gpu_fit(90, "bf16", GPUS["MI300X"], 1, (1,))
    assert problem is not None and "gpu.type: MI325X" in problem
    assert check_gpu_fit(90, "bf16", GPUS["MI325X"], 1, (1,)) is None


def test_the_fit_check_refuses_a_stack_whose_model_outgrows_the_v100() -> None:
    raw = _stack(
        {
            "model": {"source": "hf://Qwen/Qwen2.5-7B-Instruct", "parameters": "7B"},
            "gpu": {"type": "V100-16GB", "count": 1},
        }
    )
    (issue,) = stack_problems(raw)
    assert issue.startswith("deployments[0].model.parameters:")
    assert "1 x V100-16GB has 14 GiB usable; would fit: gpu.count: 2" in issue


# -- placement per cloud --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gpu", "scheme", "selector", "affinity"),
    [
        ("V100-16GB", "gke", {"cloud.google.com/gke-accelerator": "nvidia-tesla-v100"}, {}),
        (
            "V100-16GB",
            "eks",
            {
                "karpenter.k8s.aws/instance-gpu-name": "v100",
                "karpenter.k8s.aws/instance-gpu-memory": "16384",
            },
            {},
        ),
        (
            "V100-16GB",
            "eks-instance-type",
            {},
            {"node.kubernetes.io/instance-type": ("p3.2xlarge", "p3.8xlarge", "p3.16xlarge")},
        ),
        (
            "V100-16GB",
            "generic",
            {},
            {"nvidia.com/gpu.product": ("Tesla-V100-SXM2-16GB", "Tesla-V100-PCIE-16GB")},
        ),
        (
            "V100-32GB",
            "eks",
            {
                "karpenter.k8s.aws/instance-gpu-name": "v100",
                "karpenter.k8s.aws/instance-gpu-memory": "32768",
            },
            {},
        ),
        (
            "V100-32GB",
            "eks-instance-type",
            {"node.kubernetes.io/instance-type": "p3dn.24xlarge"},
            {},
        ),
        (
            "V100-32GB",
            "aks",
            {
                "kubernetes.azure.com/accelerator": "nvidia",
                "node.kubernetes.io/instance-type": "Standard_ND40rs_v2",
            },
            {},
        ),
        (
            "V100-32GB",
            "generic",
            {},
            {"nvidia.com/gpu.product": ("Tesla-V100-SXM2-32GB", "Tesla-V100-PCIE-32GB")},
        ),
        ("MI325X", "generic", {}, {"amd.com/gpu.device-id": ("74a5", "74b9")}),
    ],
)
def test_new_rows_select_nodes_by_each_schemes_labels(
    gpu: str, scheme: str, selector: dict[str, str], affinity: dict[str, tuple[str, ...]]
) -> None:
    placement = gpu_placement(GPUS[gpu], scheme)
    assert placement is not None
    assert placement.node_selector == selector
    assert {r.key: r.values for r in placement.node_affinity} == affinity


@pytest.mark.parametrize(
    ("gpu", "scheme"),
    [
        ("V100-16GB", "aks"),  # NCv3 retired
        ("V100-16GB", "eks-auto-mode"),
        ("V100-32GB", "gke"),  # GKE's V100 is the 16 GB one
        ("V100-32GB", "eks-auto-mode"),
        ("MI325X", "gke"),
        ("MI325X", "eks"),
        ("MI325X", "aks"),
    ],
)
def test_a_cloud_that_does_not_offer_the_gpu_has_no_placement(gpu: str, scheme: str) -> None:
    assert gpu_placement(GPUS[gpu], scheme) is None


def test_a_v100_16gb_on_aks_is_refused_naming_where_it_can_run() -> None:
    raw = _stack({"gpu": {"type": "V100-16GB", "count": 1}}, cloud="aks", namespace="ml")
    (issue,) = stack_problems(raw)
    assert issue.startswith("deployments[0].gpu.type:")
    assert "V100-16GB has no node label in the aks scheme" in issue
    assert "schemes with one: eks, eks-instance-type, generic, gke" in issue


def test_the_mi325x_is_placed_by_its_device_id_and_tolerates_the_amd_taint() -> None:
    raw = _stack({"gpu": {"type": "MI325X", "count": 1}})
    deployment = plan_stack(raw).deployments[0]
    placement = deployment.serving.placement
    assert placement is not None
    assert {r.key: r.values for r in placement.node_affinity} == {
        "amd.com/gpu.device-id": ("74a5", "74b9")
    }
    assert placement.tolerations == (
        {"key": "amd.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
    )
    assert deployment.slots[0].engine.image.startswith("vllm/vllm-openai-rocm:")


def test_v100_alone_names_both_sizes() -> None:
    (issue,) = stack_problems(_stack({"gpu": {"type": "V100", "count": 1}}))
    assert "did you mean 'V100-16GB' or 'V100-32GB'?" in issue


# -- precision refusals ---------------------------------------------------------------------


@pytest.mark.parametrize("precision", ["bf16", "fp8"])
def test_a_v100_refuses_bf16_and_fp8(precision: str) -> None:
    raw = _stack({"gpu": {"type": "V100-32GB", "count": 1}, "precision": precision})
    (issue,) = stack_problems(raw)
    assert issue.startswith("deployments[0].precision: V100-32GB has no")
    if precision == "fp8":
        assert "MI325X" in issue and "V100" not in issue.split("(")[1]


def test_only_blackwell_computes_in_fp4() -> None:
    assert [name for name, row in GPUS.items() if row.fp4] == ["B200"]


def test_fp4_on_a_b200_serves_the_checkpoint_as_published() -> None:
    """fp4 is an NVFP4 checkpoint: vLLM reads its method from the checkpoint's config, so
    modelstack passes neither --quantization nor --dtype, and sizes weights at 4 bits."""
    raw = _stack({"gpu": {"type": "B200", "count": 1}, "precision": "fp4"})
    engine = plan_stack(raw).deployments[0].slots[0].engine
    assert "--quantization" not in engine.args and "--dtype" not in engine.args
    assert check_gpu_fit(671, "fp4", GPUS["B200"], 4, COUNTS) is None
    assert check_gpu_fit(671, "fp8", GPUS["B200"], 4, COUNTS) is not None


@pytest.mark.parametrize("gpu", ["H100", "A100-80GB", "MI300X", "MI325X"])
def test_fp4_on_a_gpu_without_fp4_names_the_one_that_has_it(gpu: str) -> None:
    (issue,) = stack_problems(_stack({"gpu": {"type": gpu, "count": 1}, "precision": "fp4"}))
    assert issue == f"deployments[0].precision: {gpu} has no fp4 support (B200 does)"


@pytest.mark.parametrize("engine", ["sglang", "tgi"])
def test_fp4_on_an_engine_without_it_names_the_one_that_serves_it(engine: str) -> None:
    raw = _stack({"engine": engine, "gpu": {"type": "B200", "count": 1}, "precision": "fp4"})
    (issue,) = stack_problems(raw)
    assert issue.startswith(f"deployments[0].precision: {engine} cannot run at fp4")
    assert issue.endswith("; engines that run fp4: vllm")
