"""A minimal read-only client of the Docker Engine API, on the standard library.

Where the daemon listens comes from DOCKER_HOST as the docker CLI reads it: `unix:///path`
(default /var/run/docker.sock) or `tcp://host:port` without TLS. http.client speaks HTTP
over a unix socket once its connection opens one. Paths are unversioned: the daemon answers
in its own API version, and the fields status reads (State with Health, Config.Labels,
RestartCount) have kept their shape across versions.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from components.status.model import ReaderSetupError, StatusUnavailable

DEFAULT_HOST = "unix:///var/run/docker.sock"
DEFAULT_TCP_PORT = 2375
REQUEST_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class DockerEndpoint:
    url: str
    socket_path: str | None = None
    host: str | None = None
    port: int | None = None

    @classmethod
    def from_environment(cls, value: str | None = None) -> DockerEndpoint:
        """DOCKER_HOST (or `value`); raises ReaderSetupError for what this client cannot use."""
        url = value or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
        parts = urlsplit(url)
        if parts.scheme == "unix":
            path = parts.path or parts.netloc
            if not path:
                raise ReaderSetupError(f"DOCKER_HOST={url} names no socket path")
            return cls(url, socket_path=path)
        if parts.scheme == "tcp":
            if os.environ.get("DOCKER_TLS_VERIFY"):
                raise ReaderSetupError(
                    f"DOCKER_HOST={url} with DOCKER_TLS_VERIFY: status reads Docker without "
                    "TLS; use the daemon's unix socket (or an SSH tunnel to it)"
                )
            if not parts.hostname:
                raise ReaderSetupError(f"DOCKER_HOST={url} names no host")
            return cls(url, host=parts.hostname, port=parts.port or DEFAULT_TCP_PORT)
        raise ReaderSetupError(
            f"DOCKER_HOST={url}: status reads Docker over unix:// or tcp:// only "
            "(for ssh:// forward the socket, e.g. `ssh -L /tmp/docker.sock:/var/run/docker.sock`)"
        )


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        # The Host header needs a name; the daemon ignores it on a socket.
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def message(self) -> str:
        """The daemon's error text ({"message": ...}), else the body as it came."""
        try:
            return str(self.json().get("message"))
        except (ValueError, AttributeError):
            return self.body.decode("utf-8", errors="replace").strip()[:200]


class DockerClient:
    def __init__(self, endpoint: DockerEndpoint, timeout: float = REQUEST_TIMEOUT_SECONDS) -> None:
        self.endpoint = endpoint
        self.timeout = timeout

    def get(self, path: str) -> Response:
        """One GET; raises StatusUnavailable when the daemon cannot be reached."""
        connection = self._connection()
        try:
            connection.request("GET", path, headers={"Accept": "application/json"})
            answer = connection.getresponse()
            return Response(answer.status, answer.read())
        except FileNotFoundError:
            raise StatusUnavailable(
                f"no Docker socket at {self.endpoint.socket_path}: is Docker running? "
                "(DOCKER_HOST picks another)"
            ) from None
        except PermissionError:
            raise StatusUnavailable(
                f"no permission to use {self.endpoint.socket_path}: join the docker group "
                "or run with access to the socket"
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise StatusUnavailable(
                f"cannot read Docker at {self.endpoint.url}: {error or type(error).__name__}"
            ) from None
        finally:
            connection.close()

    def get_json(self, path: str) -> Any:
        """A GET that must answer 200 with JSON; anything else means Docker cannot be read."""
        response = self.get(path)
        if response.status != 200:
            raise StatusUnavailable(
                f"Docker at {self.endpoint.url} answered {response.status} for {path}: "
                f"{response.message}"
            )
        try:
            return response.json()
        except ValueError:
            raise StatusUnavailable(f"Docker answered {path} with something not JSON") from None

    def _connection(self) -> http.client.HTTPConnection:
        if self.endpoint.socket_path is not None:
            return _UnixConnection(self.endpoint.socket_path, self.timeout)
        return http.client.HTTPConnection(
            str(self.endpoint.host), self.endpoint.port, timeout=self.timeout
        )
