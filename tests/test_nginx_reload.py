"""The config resource's provider against a real nginx: in-place update, graceful reload."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.docker.gateway_config import GatewayConfig, GatewayRoute, UpstreamServer
from components.docker.nginx_reload import (
    NginxConfigError,
    NginxConfigProvider,
    with_retired_engines,
)
from tests.support.fake_engine import FakeEngine, free_port
from tests.support.nginx_process import NGINX, NginxProcess, nginx_available

pytestmark = pytest.mark.skipif(
    not nginx_available() and not os.environ.get("CI"), reason="nginx is not installed"
)


@pytest.fixture
def engines() -> Iterator[tuple[FakeEngine, FakeEngine]]:
    blue, green = FakeEngine("blue").start(), FakeEngine("green").start()
    yield blue, green
    blue.stop()
    green.stop()


def _config(directory: Path, port: int, engine: FakeEngine) -> str:
    route = GatewayRoute("chat", "/chat", 60, None, (UpstreamServer(engine.address),), 3, 10)
    return GatewayConfig(
        "127.0.0.1", port, (route,), runtime_dir=str(directory), error_log=str(directory / "e.log")
    ).render()


def _props(directory: Path, config: str) -> dict[str, object]:
    # The same steps the docker target runs through `docker exec -i <gateway>`, run locally.
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "config": config,
        "config_path": str(directory / "nginx.conf"),
        "pid_path": str(directory / "nginx.pid"),
        "exec_prefix": [],
        "nginx": [NGINX, "-p", str(directory)],
        "triggers": [],
    }


def _answer(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/chat/v1/models", timeout=5) as reply:
        return reply.headers["X-Engine"]


def _eventually(port: int, expected: str) -> str:
    """A reload is asynchronous: old workers stop accepting shortly after the signal."""
    deadline = time.monotonic() + 3
    answer = _answer(port)
    while answer != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        answer = _answer(port)
    return answer


def test_update_rewrites_the_config_and_reloads_nginx_in_place(tmp_path: Path, engines) -> None:
    blue, green = engines
    port = free_port()
    directory = tmp_path / "gateway"
    provider = NginxConfigProvider()
    created = provider.create(_props(directory, _config(directory, port, blue)))
    nginx = NginxProcess(directory)
    nginx.start(f"http://127.0.0.1:{port}/-/health")
    try:
        pid = nginx.process.pid if nginx.process else None
        assert _answer(port) == "blue"
        olds = created.outs
        news = _props(directory, _config(directory, port, green))
        assert provider.diff(created.id, olds, news).changes
        assert provider.diff(created.id, olds, news).replaces == []
        provider.update(created.id, olds, news)
        assert _eventually(port, "green") == "green"
        # Same master process: reloaded, not restarted.
        assert nginx.process is not None and nginx.process.pid == pid
        assert nginx.process.poll() is None
    finally:
        nginx.stop()


def test_a_broken_config_is_refused_and_the_old_one_keeps_serving(tmp_path: Path, engines) -> None:
    blue, _ = engines
    port = free_port()
    directory = tmp_path / "gateway"
    provider = NginxConfigProvider()
    good = _config(directory, port, blue)
    created = provider.create(_props(directory, good))
    nginx = NginxProcess(directory)
    nginx.start(f"http://127.0.0.1:{port}/-/health")
    try:
        broken = good.replace("proxy_buffering off;", "proxy_buffering sideways;")
        with pytest.raises(NginxConfigError, match="could not test the new config"):
            provider.update(created.id, created.outs, _props(directory, broken))
        assert (directory / "nginx.conf").read_text() == good
        assert _answer(port) == "blue"
    finally:
        nginx.stop()


def test_create_before_nginx_runs_writes_without_reloading(tmp_path: Path, engines) -> None:
    blue, _ = engines
    port = free_port()
    directory = tmp_path / "gateway"
    NginxConfigProvider().create(_props(directory, _config(directory, port, blue)))
    assert f'"{blue.address}"' in (directory / "nginx.conf").read_text()
    assert not (directory / "nginx.conf.next").exists()
    assert not (directory / "nginx.pid").read_text(errors="ignore").strip()


def test_a_new_gateway_container_triggers_a_rewrite(tmp_path: Path) -> None:
    provider = NginxConfigProvider()
    olds = {**_props(tmp_path, "events {}"), "triggers": ["gateway-1"]}
    assert not provider.diff("id", olds, dict(olds)).changes
    assert provider.diff("id", olds, {**olds, "triggers": ["gateway-2"]}).changes


def test_engines_that_leave_are_drained_with_their_local_servers_kept_meanwhile(
    tmp_path: Path, engines
) -> None:
    blue, green = engines
    blue.chunk_interval = 0.2
    port = free_port()
    directory = tmp_path / "gateway"
    provider = NginxConfigProvider()
    olds = {**_props(directory, _config(directory, port, blue)), "engines": [blue.address]}
    created = provider.create(olds)
    nginx = NginxProcess(directory)
    nginx.start(f"http://127.0.0.1:{port}/-/health")
    try:
        news = {**_props(directory, _config(directory, port, green)), "engines": [green.address]}
        news["drain_seconds"] = 30
        # Both configs' server blocks at once (what old workers still connect to) pass nginx -t.
        interim = with_retired_engines(news["config"], olds["config"], {blue.address})
        assert f'"{blue.address}"' in interim and f'"{green.address}"' in interim
        (directory / "interim.conf").write_text(interim)
        subprocess.run(
            [NGINX, "-p", str(directory), "-t", "-q", "-c", str(directory / "interim.conf")],
            check=True,
        )
        # A 2 s stream on blue when the update starts: the update returns after it ended.
        stream = threading.Thread(target=_stream, args=(port, 10), daemon=True)
        stream.start()
        time.sleep(0.5)
        started = time.monotonic()
        provider.update(created.id, created.outs, news)
        assert time.monotonic() - started > 1.0
        assert not stream.is_alive()
        assert f'"{blue.address}"' not in (directory / "nginx.conf").read_text()
        assert _eventually(port, "green") == "green"
    finally:
        nginx.stop()


def _stream(port: int, tokens: int) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/chat/v1/chat/completions",
        data=json.dumps({"stream": True, "max_tokens": tokens}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert b"[DONE]" in reply.read()
