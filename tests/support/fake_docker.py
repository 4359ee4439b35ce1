"""A stand-in Docker daemon: the three Engine API reads `modelstack status` makes.

It serves `docker inspect` documents (fixtures) on a unix socket the test creates, or on
loopback TCP: the container list with label filters, one container's document, and log
tails in the daemon's formats (multiplexed frames without a TTY, raw bytes with one).
Every request path is recorded, so tests can check what the reader asked for.
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

STDOUT, STDERR = 1, 2
# How often serve_forever looks for shutdown (its default, 0.5 s, would slow every test).
POLL_SECONDS = 0.02


@dataclass
class DaemonState:
    containers: list[dict[str, Any]] = field(default_factory=list)
    # Log text by container name.
    logs: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    # Answer every request with this status instead (a daemon in trouble).
    failure: int | None = None

    def find(self, reference: str) -> dict[str, Any] | None:
        for container in self.containers:
            if reference in (container["Id"], container["Name"].lstrip("/")):
                return container
        return None


def summary(container: dict[str, Any]) -> dict[str, Any]:
    """What `GET /containers/json` lists for a container (a subset of its document)."""
    state = container["State"]
    return {
        "Id": container["Id"],
        "Names": [container["Name"]],
        "Image": container["Config"]["Image"],
        "ImageID": container["Image"],
        "Command": " ".join([container["Path"], *container["Args"]]),
        "Labels": container["Config"]["Labels"],
        "State": state["Status"],
        "Status": state["Status"],
        "HostConfig": {"NetworkMode": container["HostConfig"]["NetworkMode"]},
        "Mounts": container["Mounts"],
    }


def frames(text: str) -> bytes:
    """Docker's multiplexed stream: each line a frame, errors on stderr, the rest stdout."""
    body = b""
    for line in text.splitlines(keepends=True):
        stream = STDERR if "ERROR" in line or "Error" in line else STDOUT
        payload = line.encode()
        body += bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload
    return body


def _labelled(container: dict[str, Any], wanted: list[str]) -> bool:
    labels = container["Config"]["Labels"] or {}
    for selector in wanted:
        key, _, value = selector.partition("=")
        if key not in labels or (value and labels[key] != value):
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    state: DaemonState

    def do_GET(self) -> None:
        self.state.requests.append(self.path)
        if self.state.failure is not None:
            self._json(self.state.failure, {"message": "daemon in trouble"})
            return
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        if segments == ["containers", "json"]:
            self._list(query)
        elif len(segments) == 3 and segments[0] == "containers":
            container = self.state.find(segments[1])
            if container is None:
                self._json(404, {"message": f"No such container: {segments[1]}"})
            elif segments[2] == "json":
                self._json(200, container)
            elif segments[2] == "logs":
                self._logs(container, query)
            else:
                self._json(404, {"message": "page not found"})
        else:
            self._json(404, {"message": "page not found"})

    def _list(self, query: dict[str, list[str]]) -> None:
        filters = json.loads(query.get("filters", ["{}"])[0])
        everything = query.get("all", ["0"])[0] in ("1", "true")
        listed = [
            summary(c)
            for c in self.state.containers
            if _labelled(c, filters.get("label", []))
            and (everything or c["State"]["Status"] == "running")
        ]
        self._json(200, listed)

    def _logs(self, container: dict[str, Any], query: dict[str, list[str]]) -> None:
        if query.get("stdout") != ["1"] or query.get("stderr") != ["1"]:
            self._json(400, {"message": "you must choose at least one stream"})
            return
        lines = self.state.logs.get(container["Name"].lstrip("/"), "").splitlines(keepends=True)
        tail = query.get("tail", ["all"])[0]
        if tail != "all":
            lines = lines[-int(tail) :]
        text = "".join(lines)
        tty = container["Config"]["Tty"]
        body = text.encode() if tty else frames(text)
        kind = "raw-stream" if tty else "multiplexed-stream"
        self._send(200, body, f"application/vnd.docker.{kind}")

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Api-Version", "1.47")
        self.end_headers()
        self.wfile.write(body)

    def address_string(self) -> str:
        return "docker-socket"  # a unix socket peer has no address

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet test output


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _handler_for(state: DaemonState) -> type[_Handler]:
    return type("Handler", (_Handler,), {"state": state})


@contextmanager
def unix_daemon(socket_path: Path, state: DaemonState) -> Iterator[str]:
    """Serve on `socket_path`; yields the DOCKER_HOST value that reaches it."""
    server = _UnixServer(str(socket_path), _handler_for(state))
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True)
    thread.start()
    try:
        yield f"unix://{socket_path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def tcp_daemon(state: DaemonState) -> Iterator[str]:
    """Serve on a free loopback port; yields the DOCKER_HOST value that reaches it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
