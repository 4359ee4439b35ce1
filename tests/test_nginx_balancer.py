"""The docker target's load balancer, run for real: Debian's nginx in front of fake engines.

Every load here is bounded in count and time and talks to 127.0.0.0/8 only.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from components.docker.gateway_config import GatewayConfig, GatewayRoute, UpstreamServer
from tests.support.fake_engine import EngineProcess, FakeEngine, free_port
from tests.support.nginx_process import NginxProcess, nginx_available

# CI installs nginx: there a missing binary fails instead of skipping.
pytestmark = pytest.mark.skipif(
    not nginx_available() and not os.environ.get("CI"), reason="nginx is not installed"
)

PATH = "/team/chat"


class Gateway:
    """nginx on a free loopback port, configured through the real template."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.nginx = NginxProcess(directory)
        self.error_log = directory / "error.log"

    def config(self, route: GatewayRoute) -> str:
        return GatewayConfig(
            listen_address="127.0.0.1",
            listen_port=self.port,
            routes=(route,),
            runtime_dir=str(self.nginx.directory),
            error_log=str(self.error_log),
            access_log="off",
        ).render()

    def start(self, route: GatewayRoute) -> None:
        self.nginx.write(self.config(route))
        self.nginx.start(f"http://127.0.0.1:{self.port}/-/health")

    def switch(self, route: GatewayRoute) -> None:
        self.nginx.write(self.config(route))
        self.nginx.reload()

    def request(
        self,
        method: str = "POST",
        path: str = "/v1/chat/completions",
        body: dict | None = None,
        source: str = "127.0.0.1",
        timeout: float = 10,
    ) -> tuple[int, str]:
        """One request on a fresh connection: (status, engine that answered)."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=timeout, source_address=(source, 0)
        )
        try:
            payload = json.dumps(body or {"messages": []}) if method == "POST" else None
            connection.request(
                method, PATH + path, body=payload, headers={"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            response.read()
            return response.status, response.getheader("X-Engine") or ""
        finally:
            connection.close()


def route(
    servers: list[UpstreamServer],
    balancing: str | None = None,
    max_fails: int = 3,
    fail_timeout: int = 10,
    idle: tuple[str, ...] = (),
) -> GatewayRoute:
    return GatewayRoute(
        upstream="chat",
        path=PATH,
        timeout_seconds=60,
        balancing=balancing,
        servers=tuple(servers),
        max_fails=max_fails,
        fail_timeout_seconds=fail_timeout,
        idle=idle,
    )


@pytest.fixture
def engines() -> Iterator[Callable[[int], list[FakeEngine]]]:
    started: list[FakeEngine] = []

    def start(count: int) -> list[FakeEngine]:
        new = [FakeEngine(f"engine-{len(started) + i}").start() for i in range(count)]
        started.extend(new)
        return new

    yield start
    for engine in started:
        engine.stop()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gateway = Gateway(tmp_path / "nginx")
    yield gateway
    gateway.nginx.stop()


def _spread(gateway: Gateway, count: int, clients: int = 1) -> Counter[str]:
    """Which engines answered `count` requests sent by `clients` concurrent clients."""
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda _: gateway.request(), range(count)))
    assert {status for status, _ in results} == {200}
    return Counter(engine for _, engine in results)


class SteadyLoad:
    """Concurrent clients sending requests until stopped; every outcome recorded."""

    def __init__(self, gateway: Gateway, clients: int = 6, method: str = "POST") -> None:
        self.gateway = gateway
        self.clients = clients
        self.method = method
        self.results: list[tuple[float, int, str]] = []
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(clients)
        self._lock = threading.Lock()

    def __enter__(self) -> SteadyLoad:
        for _ in range(self.clients):
            self._pool.submit(self._run)
        return self

    def _run(self) -> None:
        deadline = time.monotonic() + 30  # bounded even if a test forgets to stop it
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                status, engine = self.gateway.request(
                    self.method, "/v1/models" if self.method == "GET" else "/v1/chat/completions"
                )
            except OSError as error:
                status, engine = 0, type(error).__name__
            with self._lock:
                self.results.append((time.monotonic(), status, engine))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True)

    def failures(self) -> list[tuple[float, int, str]]:
        return [r for r in self.results if r[1] != 200]

    def engines_after(self, moment: float) -> set[str]:
        return {engine for at, status, engine in self.results if at > moment and status == 200}


def test_round_robin_spreads_evenly(gateway: Gateway, engines) -> None:
    upstreams = engines(3)
    gateway.start(route([UpstreamServer(e.address) for e in upstreams]))
    answers = _spread(gateway, 300, clients=4)
    assert set(answers) == {e.name for e in upstreams}
    for count in answers.values():
        assert abs(count - 100) <= 10, answers


def test_least_conn_sends_new_requests_to_the_idle_upstream(gateway: Gateway, engines) -> None:
    busy_candidate, other = engines(2)
    gateway.start(
        route([UpstreamServer(busy_candidate.address), UpstreamServer(other.address)], "least_conn")
    )
    with ThreadPoolExecutor(1) as pool:
        long_request = pool.submit(gateway.request, body={"sleep": 3})
        deadline = time.monotonic() + 2
        while busy_candidate.active + other.active == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        busy = busy_candidate if busy_candidate.active else other
        idle = other if busy is busy_candidate else busy_candidate
        quick = _spread(gateway, 10)
        assert quick == Counter({idle.name: 10})
        assert long_request.result(timeout=10) == (200, busy.name)


def test_round_robin_does_not_avoid_the_busy_upstream(gateway: Gateway, engines) -> None:
    # The contrast that makes the least_conn test meaningful.
    first, second = engines(2)
    gateway.start(route([UpstreamServer(first.address), UpstreamServer(second.address)]))
    with ThreadPoolExecutor(1) as pool:
        long_request = pool.submit(gateway.request, body={"sleep": 2})
        time.sleep(0.3)
        quick = _spread(gateway, 10)
        assert len(quick) == 2
        long_request.result(timeout=10)


def test_ip_hash_keeps_each_client_on_one_upstream(gateway: Gateway, engines) -> None:
    upstreams = engines(3)
    gateway.start(route([UpstreamServer(e.address) for e in upstreams], "ip_hash"))
    chosen = {}
    # ip_hash keys on the first three octets of the client address.
    for client in range(12):
        source = f"127.0.{client}.1"
        answers = {gateway.request(source=source)[1] for _ in range(8)}
        assert len(answers) == 1, (source, answers)
        chosen[source] = answers.pop()
    assert len(set(chosen.values())) >= 2


def test_weights_give_the_configured_ratio(gateway: Gateway, engines) -> None:
    strong, weak = engines(2)
    gateway.start(route([UpstreamServer(strong.address, weight=3), UpstreamServer(weak.address)]))
    answers = _spread(gateway, 400, clients=4)
    assert abs(answers[strong.name] - 300) <= 30, answers
    assert abs(answers[weak.name] - 100) <= 10, answers


def test_backup_serves_only_when_every_primary_is_down(gateway: Gateway) -> None:
    # Processes, not threads: killing one drops its kept-alive connections too.
    first, second, backup = (EngineProcess(f"engine-{i}").start() for i in range(3))
    try:
        gateway.start(
            route(
                [
                    UpstreamServer(first.address),
                    UpstreamServer(second.address),
                    UpstreamServer(backup.address, backup=True),
                ],
                max_fails=1,
            )
        )
        assert backup.name not in _spread(gateway, 60)
        first.kill()
        assert backup.name not in _spread(gateway, 30)
        second.kill()
        assert _spread(gateway, 30) == Counter({backup.name: 30})
    finally:
        for process in (first, second, backup):
            process.kill()


def test_a_killed_upstream_costs_no_request_is_ejected_and_returns(
    gateway: Gateway, tmp_path: Path
) -> None:
    processes = [EngineProcess(f"engine-{i}").start() for i in range(3)]
    victim = processes[1]
    try:
        gateway.start(
            route([UpstreamServer(p.address) for p in processes], max_fails=2, fail_timeout=2)
        )
        with SteadyLoad(gateway, clients=6, method="GET") as load:
            time.sleep(1)
            victim.kill()
            killed_at = time.monotonic()
            time.sleep(1.5)
            victim.start()
            restarted_at = time.monotonic()
            time.sleep(3.5)
        assert len(load.results) > 200
        assert load.failures() == []
        served_while_dead = {
            engine for at, _, engine in load.results if killed_at + 0.2 < at < restarted_at
        }
        assert victim.name not in served_while_dead
        assert victim.name in load.engines_after(restarted_at + 2.1)
        disabled = re.findall(
            r"upstream server temporarily disabled", gateway.error_log.read_text()
        )
        assert disabled, "nginx never marked the killed upstream as failed"
    finally:
        for process in processes:
            process.kill()


def test_blue_green_switch_under_load_loses_no_request(gateway: Gateway, engines) -> None:
    blue = engines(2)
    green = engines(2)
    gateway.start(route([UpstreamServer(e.address) for e in blue]))
    with SteadyLoad(gateway, clients=6) as load:
        time.sleep(1)
        # As route_for renders a switch: blue stays in the config, idle.
        idle = tuple(e.address for e in blue)
        gateway.switch(route([UpstreamServer(e.address) for e in green], idle=idle))
        switched_at = time.monotonic()
        time.sleep(1.5)
    assert len(load.results) > 100
    assert load.failures() == []
    # Old workers finish their requests; after a moment only green answers.
    assert load.engines_after(switched_at + 0.5) == {e.name for e in green}


def test_streamed_chunks_pass_through_without_buffering(gateway: Gateway, engines) -> None:
    (engine,) = engines(1)
    engine.chunk_interval = 0.3
    gateway.start(route([UpstreamServer(engine.address)]))
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    connection.request(
        "POST",
        PATH + "/v1/chat/completions",
        body=json.dumps({"stream": True, "max_tokens": 4}),
        headers={"Content-Type": "application/json"},
    )
    response = connection.getresponse()
    arrivals = []
    while len(arrivals) < 4:
        line = response.readline()
        if line.startswith(b"data: {"):
            arrivals.append(time.perf_counter())
    response.read()
    connection.close()
    delays = [arrived - sent for arrived, sent in zip(arrivals, engine.chunk_sent_at, strict=False)]
    assert len(delays) == 4
    assert max(delays) < 0.050, delays
    # The stream really was spread out in time (so buffering would have shown).
    assert arrivals[-1] - arrivals[0] > 0.8


def test_a_deployment_without_replicas_answers_503_with_a_reason(gateway: Gateway) -> None:
    gateway.start(route([]))
    status, _ = gateway.request()
    assert status == 503
