"""External endpoints on the docker gateway, run for real: Debian's nginx, configured from the
plan of a stack file, in front of stand-in OpenAI-compatible services on 127.0.0.1.

Every load here is bounded in count and time and talks to 127.0.0.0/8 only.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from components.docker.gateway_config import GatewayConfig, external_route
from components.planning.stack_validation import validated_plan
from tests.support.fake_engine import FakeEngine, free_port
from tests.support.nginx_process import NginxProcess, nginx_available

pytestmark = pytest.mark.skipif(
    not nginx_available() and not os.environ.get("CI"), reason="nginx is not installed"
)

PATH = "/remote"
# intervalSeconds: how long an ejected endpoint rests (nginx's fail_timeout); short for tests.
REST_SECONDS = 2


class Gateway:
    """nginx on a free loopback port, its config from the plan through the real template."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.nginx = NginxProcess(directory)

    def start(self, endpoints: list[dict[str, Any]]) -> str:
        raw = {
            "environment": "dev",
            "target": "docker",
            "deployments": [
                {
                    "name": "remote",
                    "route": {"path": PATH},
                    "loadBalancer": {
                        "healthCheck": {"intervalSeconds": REST_SECONDS, "unhealthyThreshold": 3}
                    },
                    "external": {"endpoints": endpoints},
                }
            ],
        }
        plan, _ = validated_plan(raw, set(), "stacks/Pulumi.test.yaml")
        text = GatewayConfig(
            listen_address="127.0.0.1",
            listen_port=self.port,
            routes=(external_route(plan.external[0]),),
            runtime_dir=str(self.nginx.directory),
            error_log=str(self.nginx.directory / "error.log"),
            access_log="off",
        ).render()
        self.nginx.write(text)
        self.nginx.start(f"http://127.0.0.1:{self.port}/-/health")
        return text

    def request(self) -> tuple[int, str]:
        """One chat completion on a fresh connection: (status, service that answered)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(
                "POST",
                f"{PATH}/v1/chat/completions",
                body=json.dumps({"messages": []}),
                headers={"Content-Type": "application/json"},
            )
            response = connection.getresponse()
            response.read()
            return response.status, response.getheader("X-Engine") or ""
        finally:
            connection.close()

    def spread(self, count: int) -> Counter[str]:
        results = [self.request() for _ in range(count)]
        assert {status for status, _ in results} == {200}, results
        return Counter(service for _, service in results)


@pytest.fixture
def services() -> Iterator[Callable[[int], list[FakeEngine]]]:
    started: list[FakeEngine] = []

    def start(count: int) -> list[FakeEngine]:
        new = [FakeEngine(f"service-{len(started) + i}").start() for i in range(count)]
        started.extend(new)
        return new

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gateway = Gateway(tmp_path / "nginx")
    yield gateway
    gateway.nginx.stop()


def _url(service: FakeEngine) -> str:
    return f"http://{service.address}/v1"


def test_weights_are_honoured(gateway: Gateway, services) -> None:
    heavy, light = services(2)
    gateway.start([{"url": _url(heavy), "weight": 3}, {"url": _url(light), "weight": 1}])
    answers = gateway.spread(200)
    assert abs(answers[heavy.name] - 150) <= 10, answers
    assert abs(answers[light.name] - 50) <= 10, answers


def test_a_failing_endpoint_is_ejected_after_three_failures_and_comes_back(
    gateway: Gateway, services
) -> None:
    failing, healthy = services(2)
    config = gateway.start([{"url": _url(failing)}, {"url": _url(healthy)}])
    assert f"max_fails=3 fail_timeout={REST_SECONDS}s" in config
    failing.status = 503
    before = failing.requests
    # Every client request is answered: each 503 of the failing service is retried on the
    # other (it had not started a generation), and after three the service rests.
    answers = gateway.spread(40)
    assert answers == Counter({healthy.name: 40})
    assert failing.requests - before == 3
    # Resting: no request at all reaches it until fail_timeout has passed.
    assert gateway.spread(20) == Counter({healthy.name: 20})
    assert failing.requests - before == 3
    # Recovered: after its rest nginx tries it again with a live request, and keeps it.
    failing.status = 200
    # nginx counts the rest in whole seconds and with `<=`: up to one second more.
    time.sleep(REST_SECONDS + 1.5)
    answers = gateway.spread(20)
    assert answers[failing.name] >= 8, answers


def test_a_backup_serves_only_while_the_primaries_fail(gateway: Gateway, services) -> None:
    primary, backup = services(2)
    gateway.start([{"url": _url(primary)}, {"url": _url(backup), "priority": 1}])
    assert gateway.spread(30) == Counter({primary.name: 30})
    assert backup.requests == 0
    primary.status = 503
    assert gateway.spread(30) == Counter({backup.name: 30})
    primary.status = 200
    # nginx counts the rest in whole seconds and with `<=`: up to one second more.
    time.sleep(REST_SECONDS + 1.5)
    assert gateway.spread(30) == Counter({primary.name: 30})


def test_a_dead_endpoint_leaves_the_route_serving(gateway: Gateway, services) -> None:
    dead, alive = services(2)
    gateway.start([{"url": _url(dead)}, {"url": _url(alive)}])
    dead.stop()  # nothing listens: connection refused
    assert gateway.spread(30) == Counter({alive.name: 30})
