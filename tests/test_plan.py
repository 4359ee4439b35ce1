"""The plan: memory fit, GPU placement per cloud, model locations, loaders and names."""

from __future__ import annotations

from typing import Any

import pytest

from components.catalog.gpus import GPUS
from components.plan import DeploymentPlan, build_plan
from components.planning.memory_fit import check_gpu_fit
from components.planning.model_location import locate
from components.planning.placement import gpu_placement
from components.planning.precision import gguf_bits_per_parameter, resolve_precision
from components.spec import StackSpec


def _plan(deployment: dict[str, Any], **stack: Any) -> DeploymentPlan:
    spec = StackSpec.model_validate(
        {"environment": "dev", "target": "kubernetes", **stack, "deployments": [deployment]}
    )
    return build_plan(spec, "stacks/Pulumi.test.yaml").deployments[0]


def _gpu_deployment(**changes: Any) -> dict[str, Any]:
    return {
        "name": "chat",
        "model": {"source": "hf://org/model", "parameters": "8B"},
        "gpu": {"type": "L4", "count": 1},
        **changes,
    }


def test_8b_at_bf16_fits_one_l4() -> None:
    assert check_gpu_fit(8, "bf16", GPUS["L4"], 1, (1, 2, 4, 8)) is None


def test_70b_on_one_h100_names_need_capacity_and_what_would_fit() -> None:
    problem = check_gpu_fit(70, "bf16", GPUS["H100"], 1, (1, 2, 4, 8))
    assert problem is not None
    assert "70B parameters at bf16 need about 158 GiB (130 GiB weights" in problem
    assert "1 x H100 has 72 GiB usable" in problem
    assert "gpu.type: B200" in problem
    assert "gpu.count: 4" in problem
    assert "precision: int4" in problem
    assert "gpu.type: MI300X" not in problem  # another vendor is not a drop-in suggestion


def test_fp8_is_suggested_only_on_gpus_that_have_it() -> None:
    problem = check_gpu_fit(70, "bf16", GPUS["A100-80GB"], 1, (1, 2, 4, 8))
    assert problem is not None and "precision: fp8" not in problem
    problem = check_gpu_fit(70, "bf16", GPUS["H100"], 1, (1, 2, 4, 8))
    assert problem is not None


@pytest.mark.parametrize(
    ("gpu", "cloud", "selector", "affinity"),
    [
        ("L4", "gke", {"cloud.google.com/gke-accelerator": "nvidia-l4"}, {}),
        (
            "H100",
            "gke",
            {},
            {"cloud.google.com/gke-accelerator": ("nvidia-h100-80gb", "nvidia-h100-mega-80gb")},
        ),
        (
            "A100-80GB",
            "eks",
            {
                "karpenter.k8s.aws/instance-gpu-name": "a100",
                "karpenter.k8s.aws/instance-gpu-memory": "81920",
            },
            {},
        ),
        (
            "H100",
            "aks",
            {"kubernetes.azure.com/accelerator": "nvidia"},
            {
                "node.kubernetes.io/instance-type": (
                    "Standard_ND96isr_H100_v5",
                    "Standard_NC40ads_H100_v5",
                    "Standard_NC80adis_H100_v5",
                )
            },
        ),
        ("L40S", "generic", {"nvidia.com/gpu.product": "NVIDIA-L40S"}, {}),
        ("MI300X", "generic", {}, {"amd.com/gpu.device-id": ("74a1", "74b5")}),
    ],
)
def test_gpu_placement_per_cloud(
    gpu: str, cloud: str, selector: dict[str, str], affinity: dict[str, tuple[str, ...]]
) -> None:
    placement = gpu_placement(GPUS[gpu], cloud)
    assert placement is not None
    assert placement.node_selector == selector
    assert {r.key: r.values for r in placement.node_affinity} == affinity


def test_gpu_tolerations_match_any_taint_value_and_aks_convention() -> None:
    aks = gpu_placement(GPUS["T4"], "aks")
    amd = gpu_placement(GPUS["MI300X"], "generic")
    assert aks is not None and amd is not None
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in (
        aks.tolerations
    )
    assert {"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"} in (
        aks.tolerations
    )
    assert amd.tolerations == (
        {"key": "amd.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
    )


def test_gpu_not_offered_on_a_cloud_has_no_placement() -> None:
    assert gpu_placement(GPUS["A10G"], "gke") is None
    assert gpu_placement(GPUS["MI300X"], "eks") is None


@pytest.mark.parametrize(
    ("source", "revision", "directory", "model_path", "fmt"),
    [
        (
            "hf://meta-llama/Llama-3.1-8B-Instruct",
            None,
            "/model-cache/hf/meta-llama/Llama-3.1-8B-Instruct/main",
            "/model-cache/hf/meta-llama/Llama-3.1-8B-Instruct/main",
            "safetensors",
        ),
        (
            "hf://org/repo-GGUF/sub/model-Q4_K_M.gguf",
            "v2",
            "/model-cache/hf/org/repo-GGUF/v2",
            "/model-cache/hf/org/repo-GGUF/v2/sub/model-Q4_K_M.gguf",
            "gguf",
        ),
        (
            "s3://bucket/models/llama",
            None,
            "/model-cache/s3/bucket/models/llama",
            None,
            "safetensors",
        ),
        (
            "gs://bucket/m/x.gguf",
            None,
            "/model-cache/gs/bucket/m",
            "/model-cache/gs/bucket/m/x.gguf",
            "gguf",
        ),
        ("pvc://weights/llama", None, "/model-cache/pvc/weights/llama", None, "safetensors"),
        ("ollama://llama3.2:1b", None, "/model-cache/ollama", None, "ollama"),
    ],
)
def test_model_locations(
    source: str, revision: str | None, directory: str, model_path: str | None, fmt: str
) -> None:
    location = locate(source, revision)
    assert location.directory == directory
    assert location.model_path == (model_path or directory)
    assert location.inferred_format == fmt
    assert location.needs_download == (not source.startswith("pvc://"))


def test_oci_models_get_a_directory_per_image() -> None:
    first = locate("oci://registry.example.com/models/llama:1", None)
    second = locate("oci://registry.example.com/models/llama:2", None)
    assert first.directory != second.directory
    assert first.directory.startswith("/model-cache/oci/")


def test_precision_auto_follows_the_gpu() -> None:
    assert resolve_precision("auto", GPUS["H100"]) == "bf16"
    assert resolve_precision("auto", GPUS["T4"]) == "fp16"  # T4 has no bf16
    assert resolve_precision("fp8", GPUS["H100"]) == "fp8"


def test_gguf_bits_come_from_the_file_name() -> None:
    assert gguf_bits_per_parameter("Llama-3.2-3B-Instruct-Q4_K_M.gguf") == 4.8
    assert gguf_bits_per_parameter("qwen2.5-0.5b-instruct-q8_0.gguf") == 8.5
    assert gguf_bits_per_parameter("model.gguf") == 8.5  # unknown: sized on the safe side


def test_loader_jobs_are_named_by_content() -> None:
    v1 = _plan(_gpu_deployment(model={"source": "hf://org/model", "revision": "v1"}))
    v1_again = _plan(_gpu_deployment(model={"source": "hf://org/model", "revision": "v1"}))
    v2 = _plan(_gpu_deployment(model={"source": "hf://org/model", "revision": "v2"}))
    assert v1.loaders[0].job_name == v1_again.loaders[0].job_name
    assert v1.loaders[0].job_name != v2.loaders[0].job_name
    assert v1.loaders[0].job_name.startswith("chat-fetch-")


def test_blue_green_slots_share_one_loader_when_the_model_is_the_same() -> None:
    plan = _plan(
        _gpu_deployment(
            rollout={
                "strategy": "blue-green",
                "active": "green",
                "slots": {"blue": {"image": "vllm/vllm-openai:v0.30.0"}},
            }
        )
    )
    assert [s.workload_name for s in plan.slots] == ["chat-blue", "chat-green"]
    assert plan.serving.slot == "green"
    assert len(plan.loaders) == 1
    assert {s.loader_job for s in plan.slots} == {plan.loaders[0].job_name}
    assert plan.slots[0].engine.image == "vllm/vllm-openai:v0.30.0"
    assert plan.slots[1].engine.image == "vllm/vllm-openai:v0.31.0"


def test_pvc_sources_mount_the_users_claim_and_need_no_cache() -> None:
    plan = _plan(_gpu_deployment(model={"source": "pvc://weights/llama-8b"}))
    assert plan.cache is None
    assert plan.loaders == ()
    assert plan.external_claims == ("weights",)
    assert plan.slots[0].loader_job is None


def test_cpu_memory_default_comes_from_the_model() -> None:
    plan = _plan(
        {
            "name": "tiny",
            "model": {"source": "hf://org/repo/model-Q4_K_M.gguf", "parameters": "7B"},
        }
    )
    # 7B at 4.8 bits ~ 3.9 GiB of weights, with headroom and the server: 6 GiB.
    slot = plan.slots[0]
    assert slot.resources.memory_limit == "6Gi"
    assert slot.resources.limits() == {"cpu": "4", "memory": "6Gi"}
    assert slot.hardware == "cpu" and slot.placement is None


def test_rolling_defaults_depend_on_gpus_and_can_be_overridden() -> None:
    gpu = _plan(_gpu_deployment())
    assert (gpu.on_kubernetes.max_surge, gpu.on_kubernetes.max_unavailable) == (0, 1)
    cpu = _plan({"name": "tiny", "model": {"source": "hf://org/repo/m-Q8_0.gguf"}})
    assert (cpu.on_kubernetes.max_surge, cpu.on_kubernetes.max_unavailable) == (1, 0)
    custom = _plan(_gpu_deployment(rollout={"maxSurge": "25%", "maxUnavailable": 0}))
    assert (custom.on_kubernetes.max_surge, custom.on_kubernetes.max_unavailable) == ("25%", 0)


def test_environment_defaults_apply() -> None:
    dev = _plan(_gpu_deployment())
    prod = _plan(_gpu_deployment(), environment="prod")
    assert [s.replicas for s in dev.slots] == [1]
    assert [s.replicas for s in prod.slots] == [2]
    assert prod.cache is not None and prod.cache.protect
    assert dev.cache is not None and not dev.cache.protect
