"""The docker target under Pulumi's mock runtime: containers, gateway, checks, routine edits."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from components.docker.gateway_config import GatewayConfig, route_for
from components.offline.render import Render
from components.offline.stack_file import PLACEHOLDER_PREFIX
from components.plan import build_plan
from components.rendered.nginx_routes import parse_routes
from components.stack_config import parse_stack_spec
from tests.conftest import deployments_of, render_document, stack_document, with_changes
from tests.support.nginx_process import NGINX, nginx_available

CONTAINER = "docker:index/container:Container"
DYNAMIC = "pulumi-python:dynamic:Resource"


def _docker_doc(**deployment_changes: Any) -> dict[str, Any]:
    document = stack_document("dev")
    deployments_of(document)[0].update(deployment_changes)
    return document


def _containers(render: Render) -> dict[str, dict[str, Any]]:
    return {
        body["name"]: body["inputs"]
        for path, body in render.object_files().items()
        if path.startswith("docker/container-")
    }


def _engines(render: Render) -> dict[str, dict[str, Any]]:
    return {
        name: inputs
        for name, inputs in _containers(render).items()
        if {"label": "app.kubernetes.io/component", "value": "inference-engine"} in inputs["labels"]
    }


def _nginx_config(render: Render) -> str:
    return render.object_files()["checks/gateway-config.yaml"]["inputs"]["config"]


def _servers(config: str) -> list[tuple[str, str]]:
    """(engine address, " weight=N" and " backup" as written) of every upstream server."""
    return [
        (
            server.address,
            (f" weight={server.weight}" if server.weight != 1 else "")
            + (" backup" if server.backup else ""),
        )
        for route in parse_routes(config)
        for server in route.servers
    ]


def test_dev_stack_runs_two_engines_behind_nginx(tmp_path: Path) -> None:
    render = render_document(tmp_path, stack_document("dev"))
    engines = _engines(render)
    assert len(engines) == 2
    for inputs in engines.values():
        assert inputs["image"] == "ghcr.io/ggml-org/llama.cpp:server-b11382"
        assert inputs["wait"] is True
        assert inputs["healthcheck"]["tests"][:2] == ["CMD", "curl"]
        assert inputs["mounts"] == [
            {
                "readOnly": True,
                "source": "modelstack-dev-qwen-tiny-cache",
                "target": "/model-cache",
                "type": "volume",
            }
        ]
        assert inputs["networksAdvanced"][0]["name"] == "modelstack-dev"
        assert "device_requests" not in inputs and "deviceRequests" not in inputs
    config = _nginx_config(render)
    addresses = sorted(address for address, _ in _servers(config))
    assert addresses == sorted(f"{inputs['name']}:8080" for inputs in engines.values())
    assert "location /qwen-tiny/ {" in config
    assert "least_conn" not in config and "ip_hash" not in config
    gateway = _containers(render)["gateway"]
    assert gateway["ports"] == [{"external": 8080, "internal": 8080, "ip": "127.0.0.1"}]
    check = render.object_files()["checks/qwen-tiny-endpoint-check.yaml"]["inputs"]
    assert check["url"] == "http://127.0.0.1:8080/qwen-tiny/v1/models"
    assert check["expect_model"] == "qwen-tiny"
    assert render.outputs["deployments"]["qwen-tiny"]["endpoint"] == (
        "http://127.0.0.1:8080/qwen-tiny/v1"
    )


def test_engines_start_after_the_loader_and_the_cache_survives_deletion(tmp_path: Path) -> None:
    render = render_document(tmp_path, stack_document("dev"))
    resources = {r["name"]: r for r in render.resources}
    loader = next(name for name in resources if "-fetch-" in name)
    # Run to completion by a dynamic resource: a failed run is not stored, the next up retries.
    assert resources[loader]["type"] == DYNAMIC
    inputs = render.object_files()[f"checks/{loader}.yaml"]["inputs"]
    assert inputs["name"] == f"modelstack-dev-{loader}"
    assert inputs["entrypoint"] == "/bin/sh" and inputs["command"][0] == "-c"
    assert inputs["mounts"] == [
        {"source": "modelstack-dev-qwen-tiny-cache", "target": "/model-cache", "read_only": False}
    ]
    for name in _engines(render):
        # The engine's cache label is an Output of the loader: engines start after it.
        assert f"{DYNAMIC}::{loader}" in resources[name]["dependsOn"]
    volume = resources["qwen-tiny-cache"]
    assert volume["retainOnDelete"] is True


def test_blue_green_switch_on_docker_rewrites_only_the_gateway_config(tmp_path: Path) -> None:
    blue_green = {
        "strategy": "blue-green",
        "active": "blue",
        "slots": {"green": {"model": {"revision": "v2"}}},
    }
    before = render_document(tmp_path, _docker_doc(rollout=blue_green))

    def switch(document: dict) -> None:
        deployments_of(document)[0]["rollout"]["active"] = "green"

    after = render_document(tmp_path, with_changes(_docker_doc(rollout=blue_green), switch))
    old, new = before.object_files(), after.object_files()
    assert set(old) == set(new)
    changed = sorted(path for path in old if old[path] != new[path])
    assert changed == ["checks/gateway-config.yaml", "checks/qwen-tiny-endpoint-check.yaml"]
    servers_before = {a for a, _ in _servers(_nginx_config(before))}
    servers_after = {a for a, _ in _servers(_nginx_config(after))}
    assert all("-blue-" in server for server in servers_before)
    assert all("-green-" in server for server in servers_after)
    assert before.resources == after.resources


def test_a_version_bump_brings_new_containers_before_old_ones_go(tmp_path: Path) -> None:
    before = render_document(tmp_path, stack_document("dev"))
    after = render_document(tmp_path, _docker_doc(image="ghcr.io/ggml-org/llama.cpp:server-b11400"))
    old_names, new_names = set(_engines(before)), set(_engines(after))
    # New names: Pulumi creates (and health-waits) the new ones, then deletes the old.
    assert old_names.isdisjoint(new_names) and len(new_names) == 2
    assert "volume-qwen-tiny-cache.yaml" in " ".join(after.object_files())
    assert (
        before.object_files()["docker/volume-qwen-tiny-cache.yaml"]
        == (after.object_files()["docker/volume-qwen-tiny-cache.yaml"])
    )


def test_canary_weights_split_by_percent(tmp_path: Path) -> None:
    canary = {"strategy": "canary", "active": "blue", "canaryWeight": 20}
    render = render_document(tmp_path, _docker_doc(rollout=canary, replicas=2))
    weights = {address: extra for address, extra in _servers(_nginx_config(render))}
    blue = [extra for address, extra in weights.items() if "-blue-" in address]
    green = [extra for address, extra in weights.items() if "-green-" in address]
    assert len(blue) == len(green) == 2
    assert all("weight=4000" in extra for extra in blue)
    assert all("weight=1000" in extra for extra in green)


def test_pools_with_weights_and_failover(tmp_path: Path) -> None:
    pools = [
        {"name": "big", "replicas": 1, "weight": 3, "resources": {"cpu": "4", "memory": "4Gi"}},
        {"name": "small", "replicas": 1, "weight": 1, "priority": 1},
    ]
    weighted = render_document(
        tmp_path, _docker_doc(pools=pools, replicas=None, loadBalancer={"algorithm": "weighted"})
    )
    servers = dict(_servers(_nginx_config(weighted)))
    assert any("-big-" in a and "weight=3" in extra for a, extra in servers.items())
    assert any("-small-" in a and "weight" not in extra for a, extra in servers.items())
    failover = render_document(
        tmp_path, _docker_doc(pools=pools, replicas=None, loadBalancer={"algorithm": "failover"})
    )
    servers = dict(_servers(_nginx_config(failover)))
    assert [a for a, extra in servers.items() if extra.endswith(" backup")] == [
        a for a in servers if "-small-" in a
    ]


def test_gpu_containers_request_devices(tmp_path: Path) -> None:
    render = render_document(
        tmp_path,
        _docker_doc(
            model={"source": "hf://org/model", "parameters": "1B"},
            engine="vllm",
            gpu={"type": "L4", "count": 2},
            resources={"cpu": "8", "memory": "32Gi"},
            cache={"size": "10Gi"},
        ),
    )
    for inputs in _engines(render).values():
        assert inputs["deviceRequests"] == [
            {"capabilities": ["gpu"], "count": 2, "driver": "nvidia"}
        ]
        assert inputs["entrypoints"] == ["vllm", "serve"]
        assert inputs["shmSize"] == 2048


def test_hf_token_reaches_the_loader_only_as_a_secret(tmp_path: Path) -> None:
    document = stack_document("dev")
    document["config"]["modelstack:hfToken"] = {"secure": "v1:abc"}
    render = render_document(tmp_path, document)
    loader = next(
        body["inputs"] for path, body in render.object_files().items() if "-fetch-" in path
    )
    assert loader["secret_env"] == {"HF_TOKEN": "[secret]"}
    assert not any("HF_TOKEN" in env for env in loader["envs"])
    for inputs in _engines(render).values():
        assert not any("HF_TOKEN" in str(env) for env in inputs["envs"])
    assert PLACEHOLDER_PREFIX not in str(render.object_files())
    assert render.leaks == []


@pytest.mark.skipif(
    not nginx_available() and not os.environ.get("CI"), reason="nginx is not installed"
)
def test_the_dev_stack_gateway_config_passes_nginx_t(tmp_path: Path) -> None:
    document = stack_document("dev")
    raw = {k.removeprefix("modelstack:"): v for k, v in document["config"].items()}
    plan = build_plan(parse_stack_spec(raw, set(), "dev"), "dev")
    deployment = plan.deployments[0]
    # Container names do not resolve on this host: stand loopback addresses in for them.
    addresses = {s.workload_name: [f"127.0.0.1:{9000 + i}"] for i, s in enumerate(deployment.slots)}
    config = GatewayConfig(
        "127.0.0.1",
        18080,
        (route_for(deployment, addresses),),
        runtime_dir=str(tmp_path),
        error_log=str(tmp_path / "error.log"),
    ).render()
    (tmp_path / "nginx.conf").write_text(config)
    result = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
