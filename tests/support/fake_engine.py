"""A stand-in for an engine on loopback: health, model list, streamed chat completions.

It speaks just enough of the OpenAI-compatible API that vLLM, SGLang, TGI and llama.cpp
serve for a load balancer to be tested for real: every response says which engine
answered (header `X-Engine`), streams are chunked as the engine produces them, and
tests can make it slow, failing (503) or gone.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A loopback port outside the kernel's ephemeral range.

    Port 0 hands out ephemeral ports, which outgoing connections (the load tests make
    thousands) also take: a port found free that way can be busy a moment later.
    """
    low, _ = _ephemeral_range()
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low - 1)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port below the ephemeral range")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


class FakeEngine:
    def __init__(
        self,
        name: str,
        port: int | None = None,
        host: str = "127.0.0.1",
        served_name: str = "fake",
    ) -> None:
        self.name = name
        self.port = port or free_port()
        # 0.0.0.0 in a container: the gateway reaches it over the Docker network.
        self.host = host
        # The model id /v1/models lists (an engine's served name).
        self.served_name = served_name
        self.status = 200
        self.delay_seconds = 0.0
        self.chunk_interval = 0.0
        self.requests = 0
        self.active = 0
        # When each streamed chunk left this engine (perf_counter), for latency checks.
        self.chunk_sent_at: list[float] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FakeEngine:
        engine = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes: without this, Nagle's
                # algorithm and delayed ACKs add 40 ms to every response.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                engine._count(+1)
                try:
                    if self.path == "/health":
                        self._reply(engine.status, {"status": "ok"})
                    elif self.path == "/v1/models":
                        model = {"id": engine.served_name, "object": "model"}
                        self._reply(engine.status, {"data": [model]})
                    elif self.path == "/metrics":
                        self._metrics()
                    else:
                        self._reply(404, {"error": "not found"})
                finally:
                    engine._count(-1)

            def do_POST(self) -> None:
                engine._count(+1)
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    body = json.loads(self.rfile.read(length) or b"{}")
                    # A request may ask to be slow: a long generation holding a connection.
                    pause = float(body.get("sleep", 0)) or engine.delay_seconds
                    if pause:
                        time.sleep(pause)
                    if engine.status != 200:
                        self._reply(engine.status, {"error": "unavailable"})
                    elif body.get("stream"):
                        interval = body.get("chunk_interval")
                        self._stream(
                            int(body.get("max_tokens", 3)),
                            engine.chunk_interval if interval is None else float(interval),
                        )
                    else:
                        self._reply(200, {"choices": [{"message": {"content": engine.name}}]})
                finally:
                    engine._count(-1)

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Engine", engine.name)
                self.end_headers()
                self.wfile.write(data)

            def _metrics(self) -> None:
                # Prometheus text, with what tells engines apart.
                data = (
                    f'fake_engine_info{{engine="{engine.name}"}} 1\n'
                    f"fake_engine_requests_total {engine.requests}\n"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Engine", engine.name)
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, tokens: int, chunk_interval: float) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("X-Engine", engine.name)
                self.end_headers()
                for index in range(tokens):
                    if index and chunk_interval:
                        time.sleep(chunk_interval)
                    event = f"data: {json.dumps({'token': index, 'engine': engine.name})}\n\n"
                    self._chunk(event.encode())
                    engine.chunk_sent_at.append(time.perf_counter())
                self._chunk(b"data: [DONE]\n\n")
                self._chunk(b"")

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def drain(self, grace_seconds: float) -> None:
        """What engines do on SIGTERM: take no new request, finish those in flight."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        deadline = time.monotonic() + grace_seconds
        while self.active and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        """Gone: the port refuses connections, like a killed container."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _count(self, delta: int) -> None:
        with self._lock:
            self.active += delta
            if delta > 0:
                self.requests += 1


class EngineProcess:
    """A FakeEngine in its own process: killing it drops every connection, as a crash does."""

    def __init__(self, name: str, port: int | None = None) -> None:
        self.name = name
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> EngineProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.fake_engine", self.name, str(self.port)]
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"fake engine {self.name} did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


if __name__ == "__main__":
    FakeEngine(sys.argv[1], int(sys.argv[2])).start()
    while True:
        time.sleep(3600)
