"""The docker e2e harness creates containers exactly as rendered: every input is mapped.

Runs without Docker, on renders of the committed dev stack and its blue-green and pool
variants: an input the harness does not know fails here, not as a silently dropped setting.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import deployments_of, render_document, stack_document
from tests.e2e_docker.render_containers import (
    MIB,
    UnknownInput,
    container_body,
    nanoseconds,
    network_body,
    volume_body,
)

VARIANTS = {
    "dev": {},
    "blue-green": {"rollout": {"strategy": "blue-green", "active": "green"}},
    "pools": {
        "replicas": None,
        "pools": [{"name": "a", "replicas": 1, "weight": 2}, {"name": "b", "replicas": 1}],
        "loadBalancer": {"algorithm": "weighted"},
    },
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_rendered_docker_input_is_mapped(tmp_path: Path, variant: str) -> None:
    document = stack_document("dev")
    deployment = deployments_of(document)[0]
    for key, value in VARIANTS[variant].items():
        if value is None:
            deployment.pop(key, None)
        else:
            deployment[key] = value
    files = render_document(tmp_path, document).object_files()
    for path, body in files.items():
        inputs = body["inputs"]
        if path.startswith("docker/container-"):
            created = container_body(inputs, "stand-in:tag")
            assert created["Image"] == "stand-in:tag"
            assert created["Labels"] == {i["label"]: i["value"] for i in inputs["labels"]}
        elif path.startswith("docker/network-"):
            network_body(inputs)
        elif path.startswith("docker/volume-"):
            volume_body(inputs)


def test_an_engine_container_keeps_limits_health_check_and_network(tmp_path: Path) -> None:
    files = render_document(tmp_path, stack_document("dev")).object_files()
    path = next(path for path in files if path.startswith("docker/container-qwen-tiny-0-"))
    inputs = files[path]["inputs"]
    body = container_body(inputs, "engine:standin")
    host = body["HostConfig"]
    assert host["Memory"] == inputs["memory"] * MIB
    assert host["NanoCpus"] == int(float(inputs["cpus"]) * 10**9)
    assert host["RestartPolicy"] == {"Name": "unless-stopped"}
    assert body["Healthcheck"]["Interval"] == nanoseconds(inputs["healthcheck"]["interval"])
    assert body["Cmd"] == inputs["command"]
    assert body["NetworkingConfig"]["EndpointsConfig"]["modelstack-dev"]["Aliases"] == [
        inputs["name"]
    ]


def test_an_input_the_harness_does_not_know_is_refused() -> None:
    with pytest.raises(UnknownInput, match="privileged"):
        container_body({"image": "x", "privileged": True}, "x")
