"""Stack outputs (components/outputs.py): what a pipeline reads of each deployment after
`pulumi up`, the same keys on both targets, each the plan's decision as it was made."""

from __future__ import annotations

from typing import Any

import pytest

from components.outputs import deployment_summary
from tests.support.planned_stacks import plan_stack

SAFETENSORS = {"source": "hf://meta-llama/Llama-3.1-8B-Instruct", "parameters": "8B"}
GGUF = {
    "source": "hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf",
    "parameters": "0.5B",
}
GATEWAY = {"name": "inference", "namespace": "gateways"}


def _summary(target: str, deployment: dict[str, Any], **settings: Any) -> dict[str, Any]:
    raw = {
        "environment": "dev",
        "target": target,
        target: settings,
        "deployments": [{"name": "chat", "cache": {"size": "40Gi"}} | deployment],
    }
    return deployment_summary(plan_stack(raw).deployments[0])


def test_kubernetes_outputs_say_the_resolved_route_precision_profile_and_resources() -> None:
    summary = _summary(
        "kubernetes",
        {
            "model": SAFETENSORS,
            "gpu": {"type": "H100", "count": 1},
            "profile": "throughput",
            "resources": {"cpu": "8", "memory": "64Gi"},
            "tags": {"team": "Support"},
            "route": {"path": "/{labels.team}/{name}"},
        },
        gateway=GATEWAY,
    )
    # `auto` as the plan resolved it on an H100; the template with the tag's value.
    assert (summary["precision"], summary["profile"]) == ("bf16", "throughput")
    assert summary["routePath"] == "/support/chat"
    assert summary["resources"] == {"cpu": "8", "memory": "64Gi"}
    assert (summary["engine"], summary["gpus"]) == ("vllm", "1 x H100")


def test_a_deployment_without_a_route_says_so() -> None:
    summary = _summary("kubernetes", {"model": SAFETENSORS, "gpu": {"type": "L4", "count": 1}})
    assert summary["routePath"] is None


@pytest.mark.parametrize("target", ["kubernetes", "docker"])
def test_a_gguf_file_is_served_at_its_own_precision_on_both_targets(target: str) -> None:
    settings = {"gateway": GATEWAY} if target == "kubernetes" else {"namespace": "lab"}
    summary = _summary(
        target,
        {"model": GGUF, "resources": {"cpu": "2", "memory": "2Gi"}, "route": {"path": "/{name}"}},
        **settings,
    )
    assert (summary["engine"], summary["precision"], summary["profile"]) == (
        "llamacpp",
        "native",
        "latency",
    )
    assert (summary["routePath"], summary["gpus"]) == ("/chat", "cpu")
    assert summary["resources"] == {"cpu": "2", "memory": "2Gi"}
