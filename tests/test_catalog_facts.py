"""Catalog facts from the engines' and clouds' own docs, as the planner applies them."""

from __future__ import annotations

from typing import Any

import pytest

from components.catalog.gpus import GPUS
from components.catalog.image_pinning import image_problem
from components.guardrails.images import check_pinned_images
from components.kubernetes.manifests.cache import loader_job
from components.planning.memory_fit import check_gpu_fit
from components.planning.placement import gpu_placement
from tests.support.planned_stacks import plan_stack, stack_problems

HF_GGUF = "hf://bartowski/Qwen2.5-0.5B-Instruct-GGUF/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf"


def _stack(deployment: dict[str, Any], **top: Any) -> dict[str, Any]:
    base = {"name": "chat", "model": {"source": "ollama://qwen2.5:0.5b", "parameters": "0.5B"}}
    return {
        "environment": "dev",
        "target": "kubernetes",
        "deployments": [base | deployment],
        **top,
    }


# -- GPU memory as nvidia-smi reports it ---------------------------------------------------


@pytest.mark.parametrize(
    ("gpu", "mib"),
    [("T4", 15360), ("L4", 23034), ("A10G", 23028), ("L40S", 46068), ("H100", 81559)],
)
def test_gpu_memory_is_the_mib_nvidia_smi_reports(gpu: str, mib: int) -> None:
    assert GPUS[gpu].memory_mib == mib
    assert GPUS[gpu].memory_gib == pytest.approx(mib / 1024)


def test_a_model_that_fits_24_gib_but_not_22_5_gib_is_refused_on_an_l4() -> None:
    # 8.5B at bf16 needs 15.8 GiB x 1.2 + 1.5 = 20.5 GiB: under the old 0.9 x 24 = 21.6,
    # over the real 0.9 x 22.49 = 20.2 GiB.
    problem = check_gpu_fit(8.5, "bf16", GPUS["L4"], 1, (1, 2, 4, 8))
    assert problem is not None and "1 x L4 has 20 GiB usable" in problem
    assert check_gpu_fit(8, "bf16", GPUS["L4"], 1, (1, 2, 4, 8)) is None


# -- Ollama --------------------------------------------------------------------------------


def test_ollama_pulls_a_hugging_face_gguf_by_its_quantization() -> None:
    plan = plan_stack(
        _stack({"engine": "ollama", "model": {"source": HF_GGUF, "parameters": "0.5B"}})
    )
    (loader,) = plan.deployments[0].loaders
    assert "ollama pull hf.co/bartowski/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M" in loader.script
    assert loader.image.startswith("ollama/ollama:")


def test_ollama_copies_the_model_to_the_served_name_and_expects_its_listed_id() -> None:
    plan = plan_stack(_stack({"engine": "ollama"}))
    deployment = plan.deployments[0]
    (loader,) = deployment.loaders
    assert "ollama cp qwen2.5:0.5b chat" in loader.script
    # /v1/models lists the copy as chat:latest: the endpoint check expects exactly that.
    assert deployment.serving.engine.model_id == "chat:latest"


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        (
            "s3://models/qwen-Q4_K_M.gguf",
            "ollama pulls GGUF files from Hugging Face",
        ),
        (
            "hf://someone/repo/model.gguf",
            "this name gives none",
        ),
    ],
)
def test_ollama_refuses_gguf_it_cannot_pull(source: str, fragment: str) -> None:
    issues = stack_problems(_stack({"engine": "ollama", "model": {"source": source}}))
    assert any(fragment in issue for issue in issues), issues


def test_ollama_models_are_sized_as_4_bit_on_cpu() -> None:
    # 0.5B at Q4_K_M: 0.28 GiB weights; at fp32 it was 2.2 GiB and refused at 2Gi.
    raw = _stack({"engine": "ollama", "resources": {"cpu": "2", "memory": "2Gi"}})
    assert stack_problems(raw) == []
    big = _stack(
        {
            "engine": "ollama",
            "model": {"source": "ollama://llama3.1:70b", "parameters": "70B"},
            "resources": {"cpu": "8", "memory": "32Gi"},
        }
    )
    assert any("~48 GiB" in issue for issue in stack_problems(big)), stack_problems(big)


def test_an_ollama_tag_that_names_8_bit_is_sized_as_8_bit() -> None:
    raw = _stack(
        {
            "engine": "ollama",
            "model": {"source": "ollama://llama3.1:70b-instruct-q8_0", "parameters": "70B"},
            "resources": {"cpu": "8", "memory": "64Gi"},
        }
    )
    assert any("~85 GiB" in issue for issue in stack_problems(raw)), stack_problems(raw)


# -- SGLang on AMD --------------------------------------------------------------------------


def test_sglang_runs_on_mi300x_with_its_rocm_image() -> None:
    raw = _stack(
        {
            "engine": "sglang",
            "model": {"source": "hf://Qwen/Qwen2.5-7B-Instruct", "parameters": "7B"},
            "gpu": {"type": "MI300X", "count": 1},
        }
    )
    plan = plan_stack(raw)
    slot = plan.deployments[0].serving
    assert slot.engine.image == "lmsysorg/sglang:v0.5.21-rocm10-mi30x"
    assert slot.gpu is not None and slot.gpu.resource_name == "amd.com/gpu"


# -- tensor parallelism ---------------------------------------------------------------------


def _tp(count: int, heads: int | None = None) -> dict[str, Any]:
    model: dict[str, Any] = {"source": "hf://Qwen/Qwen2.5-72B-Instruct", "parameters": "72B"}
    if heads:
        model["attentionHeads"] = heads
    return _stack(
        {
            "engine": "vllm",
            "model": model,
            "gpu": {"type": "H100", "count": count},
            "cache": {"size": "200Gi"},
        }
    )


def test_six_gpus_run_a_model_whose_heads_divide_by_six() -> None:
    assert stack_problems(_tp(6, heads=48)) == []


def test_a_count_that_is_not_a_power_of_two_asks_for_the_head_count() -> None:
    assert any("set model.attentionHeads" in issue for issue in stack_problems(_tp(6)))


def test_more_gpus_than_a_node_holds_are_refused() -> None:
    assert any("at most 8 GPUs (got 16)" in issue for issue in stack_problems(_tp(16, heads=64)))


# -- node labels ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gpu_labels", "selector"),
    [
        (None, {"karpenter.k8s.aws/instance-gpu-name": "l40s"}),
        ("auto-mode", {"eks.amazonaws.com/instance-gpu-name": "l40s"}),
        ("gpu-feature-discovery", {"nvidia.com/gpu.product": "NVIDIA-L40S"}),
    ],
)
def test_eks_offers_karpenter_auto_mode_and_gfd_labels(
    gpu_labels: str | None, selector: dict[str, str]
) -> None:
    kubernetes: dict[str, Any] = {"cloud": "eks"}
    if gpu_labels:
        kubernetes["gpuLabels"] = gpu_labels
    raw = _stack(
        {
            "engine": "vllm",
            "model": {"source": "hf://Qwen/Qwen2.5-7B-Instruct", "parameters": "7B"},
            "gpu": {"type": "L40S", "count": 1},
        },
        kubernetes=kubernetes,
    )
    placement = plan_stack(raw).deployments[0].serving.placement
    assert placement is not None
    assert placement.node_selector == selector


def test_eks_managed_node_groups_select_by_instance_type() -> None:
    placement = gpu_placement(GPUS["L40S"], "eks-instance-type")
    assert placement is not None
    (requirement,) = placement.node_affinity
    assert requirement.key == "node.kubernetes.io/instance-type"
    assert "g6e.xlarge" in requirement.values and "g6e.48xlarge" in requirement.values


def test_auto_mode_tells_the_a100_sizes_apart_by_memory() -> None:
    placement = gpu_placement(GPUS["A100-80GB"], "eks-auto-mode")
    assert placement is not None
    assert placement.node_selector == {
        "eks.amazonaws.com/instance-gpu-name": "a100",
        "eks.amazonaws.com/instance-gpu-memory": "81920",
    }


def test_gpu_labels_a_cloud_does_not_have_are_a_stack_error() -> None:
    raw = _stack({}, kubernetes={"cloud": "gke", "gpuLabels": "auto-mode"})
    assert "gke nodes do not carry auto-mode labels" in "\n".join(stack_problems(raw))


# -- one definition of a pinned image -------------------------------------------------------


def test_prod_refuses_a_nightly_image_at_plan_time() -> None:
    raw = _stack(
        {
            "engine": "vllm",
            "model": {"source": "hf://Qwen/Qwen2.5-7B-Instruct", "parameters": "7B"},
            "gpu": {"type": "L4", "count": 1},
            "replicas": 2,
            "image": "vllm/vllm-openai:nightly",
        },
        environment="prod",
    )
    assert any("a floating tag" in issue for issue in stack_problems(raw)), stack_problems(raw)


@pytest.mark.parametrize(
    "image",
    [
        "vllm/vllm-openai:nightly",
        "vllm/vllm-openai",
        "vllm/vllm-openai:v0.31.0",
        "registry:5000/x@sha256:",
    ],
)
def test_planner_and_guardrail_share_the_definition(image: str) -> None:
    from components.guardrails.subject import Subject

    subject = Subject(
        urn="urn:x",
        type="docker:index/remoteImage:RemoteImage",
        name="engine-image",
        props={"name": image},
    )
    refused_by_guardrail = bool(check_pinned_images(subject))
    assert refused_by_guardrail == (image_problem(image) is not None)


# -- messages that name the missing piece ---------------------------------------------------


def test_load_balancer_without_a_route_names_the_route_when_envoy_gateway_is_set() -> None:
    raw = _stack(
        {
            "engine": "vllm",
            "model": {"source": "hf://Qwen/Qwen2.5-7B-Instruct", "parameters": "7B"},
            "gpu": {"type": "L4", "count": 1},
            "loadBalancer": {"algorithm": "least_connections"},
        },
        kubernetes={"gateway": {"name": "gw", "namespace": "gateways"}},
    )
    issues = stack_problems(raw)
    assert any("least_connections needs a route" in issue for issue in issues), issues
    assert not any("needs Envoy Gateway" in issue for issue in issues)


# -- the HF token from a Secret already in the cluster --------------------------------------


def test_hf_token_can_reference_a_cluster_secret() -> None:
    raw = _stack(
        {
            "engine": "vllm",
            "model": {"source": "hf://meta-llama/Llama-3.1-8B-Instruct", "parameters": "8B"},
            "gpu": {"type": "L4", "count": 1},
        },
        hfToken={"secretKeyRef": {"name": "hf-credentials", "key": "HF_TOKEN"}},
    )
    deployment = plan_stack(raw).deployments[0]
    (loader,) = deployment.loaders
    assert (loader.hf_token_secret, loader.hf_token_key) == ("hf-credentials", "HF_TOKEN")
    # Nothing to create: the Secret is the cluster's own.
    assert deployment.hf_token_secret is None
    job = loader_job(deployment, loader)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    token = next(env for env in container["env"] if env["name"] == "HF_TOKEN")
    assert token["valueFrom"] == {"secretKeyRef": {"name": "hf-credentials", "key": "HF_TOKEN"}}


def test_a_literal_hf_token_is_still_refused() -> None:
    raw = _stack({}, hfToken="hf_abc")
    assert "must be a secret" in "\n".join(stack_problems(raw))


def test_hf_token_reference_on_docker_is_refused() -> None:
    raw = _stack({}, target="docker", hfToken={"secretKeyRef": {"name": "hf", "key": "t"}})
    assert "secretKeyRef reads a Kubernetes Secret" in "\n".join(stack_problems(raw))
