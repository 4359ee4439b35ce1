"""Engines stopped, killed or restarted, and the gateway restarted with an engine down.

One dev stack (two engines) for the module; every test leaves both engines running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e_docker.daemon import Daemon
from tests.e2e_docker.documents import dev_document
from tests.e2e_docker.images import Images
from tests.e2e_docker.load import StreamingLoad, get
from tests.e2e_docker.stack import Applied, DockerStack
from tests.support.fake_engine import free_port

pytestmark = pytest.mark.e2e_docker
NAMESPACE = "e2e-fail"


class Running:
    def __init__(self, stack: DockerStack, port: int, applied: Applied) -> None:
        self.stack, self.port, self.applied = stack, port, applied

    @property
    def engines(self) -> list[str]:
        return sorted(self.applied.engines.values())

    def hostname(self, name: str) -> str:
        return str(self.stack.api.inspect(name)["Config"]["Hostname"])

    def status(self) -> tuple[int, dict]:
        result = self.stack.status("--json")
        return result.returncode, json.loads(result.stdout)

    def serves(self, requests: int = 20) -> set[str]:
        """`requests` streamed completions in a row, each one whole; the engines that answered."""
        load = StreamingLoad(self.port, "/qwen-tiny", tokens=3, chunk_interval=0.01)
        results = [load.request() for _ in range(requests)]
        assert [r for r in results if not r.ok] == []
        return {r.engine for r in results}


@pytest.fixture(scope="module")
def running(
    daemon: Daemon, images: Images, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    stack = DockerStack(daemon, images, Path(tmp_path_factory.mktemp("failures")))
    port = free_port()
    applied = stack.apply(dev_document(NAMESPACE, port))
    try:
        yield Running(stack, port, applied)
    finally:
        stack.teardown()


@pytest.fixture
def both_back(running: Running) -> Iterator[None]:
    yield
    for name in running.engines:
        if not running.stack.api.inspect(name)["State"]["Running"]:
            running.stack.api.start(name)
        running.stack.api.wait_healthy(name, 60)


def _problems(report: dict) -> list[dict]:
    return [p for d in report["deployments"] for s in d["slots"] for p in s.get("problems", [])]


def test_a_stopped_engine_leaves_the_other_serving_and_config_updates_working(
    running: Running, both_back: None
) -> None:
    stopped, other = running.engines
    running.stack.api.stop(stopped, 30)
    assert running.serves() == {running.hostname(other)}
    code, report = running.status()
    # The other engine still answers: DEGRADED (exit 5), not down.
    assert (code, report["outcome"]) == (5, "degraded"), json.dumps(report, indent=1)
    (problem,) = _problems(report)
    assert problem["code"] == "RUNTIME_ERROR"
    assert f"`docker start {stopped}` or `pulumi up --refresh`" in problem["message"]
    assert "a plain `pulumi up` does not notice" in problem["guidance"]
    # A config update while it is stopped: nginx loads a config naming a stopped engine.
    updated = running.stack.apply(
        dev_document(NAMESPACE, running.port, route={"path": "/{name}", "timeoutSeconds": 300})
    )
    assert "proxy_read_timeout 300s" in _config(updated)
    assert running.serves() == {running.hostname(other)}
    running.stack.api.start(stopped)
    running.stack.api.wait_healthy(stopped, 60)
    assert running.serves(40) == {running.hostname(name) for name in running.engines}
    assert running.status()[0] == 0


def test_a_killed_engine_is_restarted_by_docker_and_found_at_its_new_address(
    running: Running, both_back: None
) -> None:
    first, second = running.engines
    # Both stop; the one with the higher address starts first and takes the lower one
    # (Docker hands out the lowest free address): they swap addresses.
    addresses = {name: _address(running, name) for name in running.engines}
    for name in running.engines:
        running.stack.api.stop(name, 30)
    for name in sorted(running.engines, key=lambda n: _ip(addresses[n]), reverse=True):
        running.stack.api.start(name)
    for name in running.engines:
        running.stack.api.wait_healthy(name, 60)
    assert _address(running, second) == addresses[first]
    assert _address(running, first) == addresses[second]
    # A crash, as the kernel does it: Docker's restart policy brings it back.
    pid = running.stack.api.inspect(first)["State"]["Pid"]
    with StreamingLoad(
        running.port, "/qwen-tiny", clients=2, tokens=3, chunk_interval=0.05
    ) as load:
        os.kill(pid, signal.SIGKILL)
        time.sleep(1)
        running.stack.api.wait_healthy(first, 60)
        time.sleep(2)
    assert running.stack.api.inspect(first)["RestartCount"] >= 1
    # Only streams the kill itself cut may fail; every request after it is served.
    killed_at = min(r.finished for r in load.results if not r.ok) if load.failures() else 0
    assert [r for r in load.results if not r.ok and r.started > killed_at + 0.5] == []
    # Each engine's metrics come from that engine, wherever Docker put it.
    deadline = time.monotonic() + 5
    while True:
        seen = [_metrics_engine(running, index) for index in (0, 1)]
        if (
            seen == [running.hostname(first), running.hostname(second)]
            or time.monotonic() > deadline
        ):
            break
        time.sleep(0.5)
    assert seen == [running.hostname(first), running.hostname(second)]
    assert running.serves(40) == {running.hostname(name) for name in running.engines}
    # Restarted once and healthy again: nothing to do.
    assert running.stack.status("--watch", "--timeout", "60", "--interval", "2").returncode == 0


def test_the_gateway_restarted_with_one_engine_down_still_serves(
    running: Running, both_back: None
) -> None:
    down, up = running.engines
    running.stack.api.stop(down, 30)
    gateway = f"{NAMESPACE}-gateway"
    running.stack.api.restart(gateway)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(running.port, "/-/health")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    assert running.serves() == {running.hostname(up)}
    assert running.stack.api.inspect(gateway)["RestartCount"] == 0  # not crash-looping
    # Status names the engine that is down; the route is ready once Docker's health check
    # (every 10 s) has seen the restarted gateway answer.
    running.stack.api.wait_healthy(gateway, 30)
    code, report = running.status()
    assert (code, report["outcome"]) == (5, "degraded"), json.dumps(report, indent=1)
    (problem,) = _problems(report)
    assert problem["code"] == "RUNTIME_ERROR" and down in problem["source"]
    (slot,) = report["deployments"][0]["slots"]
    routing = next(c for c in slot["conditions"] if c["type"] == "RoutingReady")
    assert routing["status"] == "True"
    logs = subprocess.run(
        ["docker", "logs", gateway], env=running.stack.daemon.env(), capture_output=True, text=True
    )
    assert "host not found" not in logs.stderr + logs.stdout


def _config(applied: Applied) -> str:
    return applied.render.object_files()["checks/gateway-config.yaml"]["inputs"]["config"]


def _address(running: Running, name: str) -> str:
    networks = running.stack.api.inspect(name)["NetworkSettings"]["Networks"]
    return str(networks[NAMESPACE]["IPAddress"])


def _ip(address: str) -> tuple[int, ...]:
    return tuple(int(part) for part in address.split("."))


def _metrics_engine(running: Running, index: int) -> str:
    status, _, body = get(running.port, f"/-/metrics/qwen_tiny/{index}")
    assert status == 200, body
    return body.split('engine="', 1)[1].split('"', 1)[0]
