"""Hardened pods on every engine and loader; NetworkPolicies that select the right pods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.kubernetes.manifests.security import HOME
from tests.conftest import deployments_of, find_object, render_document, stack_document

ENGINE_DEPLOYMENTS = {
    "vllm": {"model": {"source": "hf://org/model", "parameters": "8B"}, "engine": "vllm"},
    "sglang": {"model": {"source": "hf://org/model", "parameters": "8B"}, "engine": "sglang"},
    "tgi": {"model": {"source": "hf://org/model", "parameters": "8B"}, "engine": "tgi"},
    "llamacpp": {"model": {"source": "hf://org/repo/m-Q4_K_M.gguf"}, "engine": "llamacpp"},
    "ollama": {"model": {"source": "ollama://llama3.2:1b"}, "engine": "ollama"},
}


def _staging_with(engine: str) -> dict[str, Any]:
    document = stack_document("staging")
    chat = deployments_of(document)[0]
    chat.update(ENGINE_DEPLOYMENTS[engine])
    chat.pop("precision", None)
    chat.pop("env", None)
    if engine == "ollama":
        # Ollama exports no request metrics to scale on.
        chat.pop("autoscaling", None)
    return document


def _pod(render: Any, name: str = "llama-chat") -> dict[str, Any]:
    return find_object(render, "Deployment", name)["spec"]["template"]["spec"]


@pytest.mark.parametrize("engine", sorted(ENGINE_DEPLOYMENTS))
def test_every_engine_runs_hardened(tmp_path: Path, engine: str, schema_validator) -> None:
    render = render_document(tmp_path, _staging_with(engine))
    pod = _pod(render)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    # Above 10000, so no user of the host shares it (checkov CKV_K8S_40).
    assert pod["securityContext"]["runAsUser"] > 10000
    assert pod["securityContext"]["runAsGroup"] > 10000
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"] + pod.get("initContainers", []):
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert container["imagePullPolicy"] == "IfNotPresent"
    engine_container = pod["containers"][0]
    mounts = {m["mountPath"] for m in engine_container["volumeMounts"]}
    assert {HOME, "/tmp"} <= mounts
    assert {"name": "HOME", "value": HOME} in engine_container["env"]
    if engine == "tgi":
        assert "/data" in mounts  # the image's HF_HOME
    assert schema_validator.validate_all(render.objects) == []


def test_loader_jobs_run_hardened_and_install_their_client_under_tmp(tmp_path: Path) -> None:
    render = render_document(tmp_path, stack_document("staging"))
    job = next(o for o in render.objects if o["kind"] == "Job")
    pod = job["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
    container = pod["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    script = container["command"][2]
    assert "--target /tmp/hub" in script and "/tmp/hub/bin/hf download" in script


def test_ollama_loader_pulls_into_the_cache(tmp_path: Path) -> None:
    render = render_document(tmp_path, _staging_with("ollama"))
    job = next(o for o in render.objects if o["kind"] == "Job")
    script = job["spec"]["template"]["spec"]["containers"][0]["command"][2]
    assert "export OLLAMA_MODELS=/model-cache/ollama" in script
    env = _pod(render)["containers"][0]["env"]
    assert {"name": "OLLAMA_MODELS", "value": "/model-cache/ollama"} in env


def test_engine_network_policy_admits_only_the_listed_namespaces(
    tmp_path: Path, schema_validator
) -> None:
    document = stack_document("prod")
    settings = document["config"]["modelstack:kubernetes"]
    settings["gateway"] = {"name": "inference-gateway", "namespace": "gateways"}
    settings["allowedNamespaces"] = ["support-bot"]
    render = render_document(tmp_path, document)
    policy = find_object(render, "NetworkPolicy", "llama-chat-engines")
    peers = [
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for peer in policy["spec"]["ingress"][0]["from"]
    ]
    assert peers == ["gateways", "monitoring", "support-bot"]
    assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8000}]
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    # The selector picks exactly this deployment's engine pods (both slots).
    selector = policy["spec"]["podSelector"]["matchLabels"]
    for slot in ("blue", "green"):
        labels = find_object(render, "Deployment", f"llama-chat-{slot}")["spec"]["template"][
            "metadata"
        ]["labels"]
        assert selector.items() <= labels.items()
    other = find_object(render, "Deployment", "summarizer-cpu")["spec"]["template"]["metadata"]
    assert not selector.items() <= other["labels"].items()
    loaders = find_object(render, "NetworkPolicy", "llama-chat-loaders")
    job = next(
        o for o in render.objects if o["kind"] == "Job" and "llama-chat" in o["metadata"]["name"]
    )
    assert loaders["spec"]["podSelector"]["matchLabels"].items() <= (
        job["spec"]["template"]["metadata"]["labels"].items()
    )
    assert {"protocol": "TCP", "port": 443} in loaders["spec"]["egress"][1]["ports"]
    assert loaders["spec"]["ingress"] == []
    assert schema_validator.validate_all(render.objects) == []


def test_network_policies_can_be_turned_off(tmp_path: Path) -> None:
    document = stack_document("staging")
    document["config"]["modelstack:kubernetes"]["networkPolicies"] = False
    render = render_document(tmp_path, document)
    assert not [o for o in render.objects if o["kind"] == "NetworkPolicy"]
