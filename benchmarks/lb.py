"""Load balancer overhead: the same fixed load sent directly to fake engines and through nginx.

Prints requests per second and p50/p99 latency for both, and their ratio, from one run
on this machine (loopback only). Run: .venv/bin/python benchmarks/lb.py [--requests N]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.docker.gateway_config import GatewayConfig, GatewayRoute, UpstreamServer
from tests.support.fake_engine import EngineProcess, free_port
from tests.support.nginx_process import NginxProcess

BODY = b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}'


def _client(port: int, prefix: str, count: int) -> list[float]:
    """One keep-alive client sending `count` requests; latency of each, in seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request(
            "POST", f"{prefix}/v1/chat/completions", BODY, {"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        latencies.append(time.perf_counter() - started)
    connection.close()
    return latencies


def _load(ports: list[int], prefix: str, requests: int, clients: int) -> dict[str, float]:
    per_client = requests // clients
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        futures = [
            pool.submit(_client, ports[index % len(ports)], prefix, per_client)
            for index in range(clients)
        ]
        latencies = [value for future in futures for value in future.result()]
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    # Engines in their own processes: they must not share the clients' interpreter lock.
    engines = [EngineProcess(f"engine-{i}").start() for i in range(2)]
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        nginx = NginxProcess(Path(directory))
        route = GatewayRoute(
            "bench", "/bench", 60, None, tuple(UpstreamServer(e.address) for e in engines), 3, 10
        )
        nginx.write(
            GatewayConfig(
                "127.0.0.1",
                port,
                (route,),
                runtime_dir=directory,
                error_log=f"{directory}/error.log",
                access_log="off",
            ).render()
        )
        nginx.start(f"http://127.0.0.1:{port}/-/health")
        try:
            _load([port], "/bench", 200, 2)  # warm up both paths
            direct = _load([e.port for e in engines], "", args.requests, args.clients)
            through = _load([port], "/bench", args.requests, args.clients)
        finally:
            nginx.stop()
            for engine in engines:
                engine.kill()

    print(f"{args.requests} POST requests, {args.clients} keep-alive clients, 2 engine processes")
    print(f"{'path':<14}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, result in (("direct", direct), ("through nginx", through)):
        print(f"{name:<14}{result['rps']:>10.0f}{result['p50_ms']:>10.2f}{result['p99_ms']:>10.2f}")
    ratios = {key: through[key] / direct[key] for key in ("rps", "p50_ms", "p99_ms")}
    print(
        f"ratio nginx/direct: throughput {ratios['rps']:.2f}, "
        f"p50 {ratios['p50_ms']:.2f}, p99 {ratios['p99_ms']:.2f}"
    )


if __name__ == "__main__":
    main()
