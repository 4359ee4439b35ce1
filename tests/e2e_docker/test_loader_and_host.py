"""A failed loader is run again by the next apply; a stack the host cannot fit creates nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.e2e_docker.documents import dev_document
from tests.e2e_docker.load import StreamingLoad
from tests.e2e_docker.render_containers import volume_body
from tests.e2e_docker.stack import DockerStack
from tests.support.fake_engine import free_port

pytestmark = pytest.mark.e2e_docker
NETWORK_DOWN = "/model-cache/.e2e-network-down"


def _in_cache(stack: DockerStack, volume: str, command: str) -> None:
    """A throwaway container on the cache volume (the loader image's shell)."""
    subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "-v",
            f"{volume}:/model-cache",
            "--entrypoint",
            "/bin/sh",
            stack.images.loader,
            "-c",
            command,
        ],
        env=stack.daemon.env(),
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_a_failed_loader_is_retried_by_the_next_apply(
    make_stack: Callable[[str], DockerStack],
) -> None:
    port = free_port()
    stack = make_stack("loader")
    document = dev_document("e2e-loader", port)
    stack.write(document)
    volume = stack.render().object_files()["docker/volume-qwen-tiny-cache.yaml"]["inputs"]
    stack.api.create_volume(volume_body(volume))
    # The download fails the way huggingface_hub does without a network.
    _in_cache(stack, volume["name"], f"touch {NETWORK_DOWN}")

    failed = stack.apply(document, check=False)
    assert failed.engines == {}
    assert "exited with code 1" in failed.pulumi_output
    assert "the next `pulumi up` runs the loader again" in failed.pulumi_output
    # Nothing of the failed run is kept in Pulumi's state.
    assert not any("-fetch-" in r["urn"] for r in stack.pulumi.state())

    result = stack.status("--json")
    assert result.returncode == 1, result.stderr
    (deployment,) = json.loads(result.stdout)["deployments"]
    (slot,) = deployment["slots"]
    assert slot["status"] == "ERROR"
    (problem,) = slot["problems"]
    assert problem["code"] == "MUST_REDOWNLOAD"
    assert "the next `pulumi up` runs it again" in problem["message"]
    assert "Run `pulumi up` again" in problem["guidance"]
    assert "LocalEntryNotFoundError" in problem["message"]
    routing = next(c for c in slot["conditions"] if c["type"] == "RoutingReady")
    assert routing["reason"] == "ConfiguringRoute"  # waiting for its config, not unhealthy
    # A reader that stops early: no traceback.
    piped = subprocess.run(
        f"{sys.executable} -m components.cli status --stack-file {stack.stack_file} | head -n 1",
        shell=True,
        env=stack.daemon.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert piped.stdout.strip() and "Traceback" not in piped.stderr

    _in_cache(stack, volume["name"], f"rm -f {NETWORK_DOWN}")
    retried = stack.apply(document)
    assert len(retried.engines) == 2
    load = StreamingLoad(port, "/qwen-tiny", tokens=3, chunk_interval=0.01)
    assert all(load.request().ok for _ in range(10))
    # The gateway's first health check after nginx started may still be due.
    assert stack.status("--watch", "--timeout", "60", "--interval", "2").returncode == 0


def test_a_stack_the_host_cannot_fit_creates_nothing(
    make_stack: Callable[[str], DockerStack],
) -> None:
    stack = make_stack("capacity")
    cpus = int(stack.api.client.get_json("/info")["NCPU"])
    document = dev_document(
        "e2e-capacity", free_port(), resources={"cpu": str(cpus + 2), "memory": "2Gi"}
    )
    applied = stack.apply(document, check=False)
    assert f"resources.cpu asks for {cpus + 2} CPUs per container" in applied.pulumi_output
    assert f"this Docker host has {cpus}" in applied.pulumi_output
    names = [c["Names"][0] for c in stack.api.containers()]
    assert not [name for name in names if name.startswith("/e2e-capacity-")]
    assert stack.api.client.get("/networks/e2e-capacity").status == 404
    volumes = stack.api.client.get_json("/volumes").get("Volumes") or []
    assert not [v for v in volumes if v["Name"].startswith("e2e-capacity-")]
