"""`state: stopped` and back: no engines, cache and route kept, a clear 503, and a clean restart."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from components.docker.gateway_config import GatewayRoute
from tests.conftest import deployments_of, find_object, render_document, stack_document
from tests.support.gateway import running_gateway
from tests.support.nginx_process import nginx_available


def _with_state(document: dict[str, Any], index: int, state: str) -> dict[str, Any]:
    deployments_of(document)[index]["state"] = state
    return document


def _prod_with_gateway() -> dict[str, Any]:
    document = stack_document("prod")
    document["config"]["modelstack:kubernetes"]["gateway"] = {
        "name": "inference-gateway",
        "namespace": "gateways",
    }
    deployments_of(document)[0]["route"] = {"path": "/chat", "hosts": ["llm.example.com"]}
    return document


def test_stopping_keeps_cache_route_and_configuration_but_runs_nothing(
    tmp_path: Path, schema_validator
) -> None:
    running = render_document(tmp_path, _prod_with_gateway())
    stopped = render_document(tmp_path, _with_state(_prod_with_gateway(), 0, "stopped"))
    for slot in ("blue", "green"):
        deployment = find_object(stopped, "Deployment", f"llama-chat-{slot}")
        assert deployment["spec"]["replicas"] == 0
        # Same pod template: starting again needs no new rollout.
        assert (
            deployment["spec"]["template"]
            == find_object(running, "Deployment", f"llama-chat-{slot}")["spec"]["template"]
        )
    assert find_object(stopped, "PersistentVolumeClaim", "llama-chat-cache")
    assert find_object(stopped, "HTTPRoute", "llama-chat")
    policy = find_object(stopped, "BackendTrafficPolicy", "llama-chat")
    override = policy["spec"]["responseOverride"][0]
    assert override["match"]["statusCodes"] == [{"type": "Value", "value": 503}]
    assert "llama-chat is stopped" in override["response"]["body"]["inline"]
    assert (
        "responseOverride" not in find_object(running, "BackendTrafficPolicy", "llama-chat")["spec"]
    )
    assert stopped.outputs["deployments"]["llama-chat"]["state"] == "stopped"
    # No endpoint check: nothing is meant to answer.
    assert "checks/llama-chat-endpoint-check.yaml" not in stopped.object_files()
    assert schema_validator.validate_all(stopped.objects) == []
    # The other deployments do not notice.
    other = "kubernetes/deployment-summarizer-cpu.yaml"
    assert running.object_files()[other] == stopped.object_files()[other]


def test_stopping_an_autoscaled_deployment_removes_its_autoscaler_until_it_starts(
    tmp_path: Path,
) -> None:
    document = stack_document("prod")
    autoscaled = next(
        i for i, d in enumerate(deployments_of(document)) if d.get("autoscaling") is not None
    )
    name = deployments_of(document)[autoscaled]["name"]
    stopped = render_document(tmp_path, _with_state(stack_document("prod"), autoscaled, "stopped"))
    started = render_document(tmp_path, _with_state(stack_document("prod"), autoscaled, "running"))

    def autoscalers(render: Any) -> list[str]:
        kinds = ("ScaledObject", "HorizontalPodAutoscaler", "HTTPScaledObject")
        return [
            o["metadata"]["name"]
            for o in render.objects
            if o["kind"] in kinds and o["metadata"]["name"].startswith(name)
        ]

    assert autoscalers(stopped) == []
    assert autoscalers(started)
    workload = next(
        o for o in stopped.objects if o["kind"] == "Deployment" and o["metadata"]["name"] == name
    )
    assert workload["spec"]["replicas"] == 0
    # Running again: the autoscaler owns the count, so the Deployment carries none.
    restarted = next(
        o for o in started.objects if o["kind"] == "Deployment" and o["metadata"]["name"] == name
    )
    assert "replicas" not in restarted["spec"]


def test_stopped_on_docker_runs_no_engine_and_the_gateway_says_why(tmp_path: Path) -> None:
    render = render_document(tmp_path, _with_state(stack_document("dev"), 0, "stopped"))
    files = render.object_files()
    engines = [
        body
        for path, body in files.items()
        if path.startswith("docker/container-")
        and {"label": "app.kubernetes.io/component", "value": "inference-engine"}
        in body["inputs"]["labels"]
    ]
    assert engines == []
    assert "docker/volume-qwen-tiny-cache.yaml" in files
    config = files["checks/gateway-config.yaml"]["inputs"]["config"]
    assert "qwen_tiny is stopped (state: stopped in the stack file)" in config
    assert "checks/qwen-tiny-endpoint-check.yaml" not in files


@pytest.mark.skipif(
    not nginx_available() and not os.environ.get("CI"), reason="nginx is not installed"
)
def test_the_stopped_route_answers_503_at_once_through_real_nginx(tmp_path: Path) -> None:
    route = GatewayRoute(
        "chat", "/chat", 60, None, (), 3, 10, unavailable_reason="is stopped (state: stopped)"
    )
    with running_gateway(tmp_path / "nginx", route) as port:
        with pytest.raises(urllib.error.HTTPError) as failure:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/chat/v1/models", timeout=2)
        assert failure.value.code == 503
        body = json.loads(failure.value.read())
        assert body["error"]["message"] == "chat is stopped (state: stopped)"
