"""The docker gateway's nginx config, rendered from routes and run on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from components.docker.gateway_config import GatewayConfig, GatewayRoute
from tests.support.fake_engine import free_port
from tests.support.nginx_process import NginxProcess


def gateway_config(directory: Path, port: int, *routes: GatewayRoute) -> str:
    return GatewayConfig(
        "127.0.0.1",
        port,
        routes,
        runtime_dir=str(directory),
        error_log=str(directory / "error.log"),
        access_log="off",
    ).render()


@contextmanager
def running_gateway(directory: Path, *routes: GatewayRoute) -> Iterator[int]:
    """nginx serving `routes`; yields its port and stops it afterwards."""
    port = free_port()
    nginx = NginxProcess(directory)
    nginx.write(gateway_config(directory, port, *routes))
    nginx.start(f"http://127.0.0.1:{port}/-/health")
    try:
        yield port
    finally:
        nginx.stop()
