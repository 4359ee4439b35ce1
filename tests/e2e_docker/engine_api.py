"""Writes to the Docker Engine API (create, start, stop, kill, remove), over its unix socket.

The read side is modelstack's own client (components/status/docker_api.py); the tests create
what pulumi-docker would create, through the same API it uses.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import quote

from components.status.docker_api import DockerClient


class EngineApiError(RuntimeError):
    pass


class EngineApi:
    def __init__(self, client: DockerClient) -> None:
        self.client = client

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        timeout: float = 120,
        content_type: str = "application/json",
    ) -> Any:
        """`body`: JSON-encoded, or sent as it is when it is bytes (with `content_type`)."""
        connection = self.client._connection()
        connection.timeout = timeout
        try:
            payload = body if isinstance(body, bytes) or body is None else json.dumps(body)
            headers = {"Content-Type": content_type} if payload is not None else {}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise EngineApiError(f"{method} {path}: {error}") from error
        finally:
            connection.close()
        if response.status >= 300 and response.status != 304:
            raise EngineApiError(f"{method} {path}: {response.status} {data[:500]!r}")
        return json.loads(data) if data.strip() else None

    def inspect(self, name: str) -> dict[str, Any]:
        return self.client.get_json(f"/containers/{quote(name)}/json")

    def containers(self, label: str | None = None) -> list[dict[str, Any]]:
        filters = quote(json.dumps({"label": [label]})) if label else ""
        return self.client.get_json(f"/containers/json?all=1&filters={filters}")

    def create_network(self, body: dict[str, Any]) -> str:
        return str(self.request("POST", "/networks/create", body)["Id"])

    def create_volume(self, body: dict[str, Any]) -> str:
        return str(self.request("POST", "/volumes/create", body)["Name"])

    def create_container(self, name: str, body: dict[str, Any]) -> str:
        return str(self.request("POST", f"/containers/create?name={quote(name)}", body)["Id"])

    def put_archive(self, name: str, directory: str, tar: bytes) -> None:
        """Unpacks a tar into a container (created or running) below `directory`."""
        path = f"/containers/{quote(name)}/archive?path={quote(directory)}"
        self.request("PUT", path, tar, content_type="application/x-tar")

    def start(self, name: str) -> None:
        self.request("POST", f"/containers/{quote(name)}/start")

    def stop(self, name: str, seconds: int) -> None:
        self.request("POST", f"/containers/{quote(name)}/stop?t={seconds}", timeout=seconds + 60)

    def kill(self, name: str) -> None:
        self.request("POST", f"/containers/{quote(name)}/kill")

    def restart(self, name: str, seconds: int = 10) -> None:
        self.request("POST", f"/containers/{quote(name)}/restart?t={seconds}", timeout=seconds + 60)

    def remove(self, name: str) -> None:
        self.request("DELETE", f"/containers/{quote(name)}?force=1&v=0")

    def wait_healthy(self, name: str, timeout: float) -> None:
        """pulumi-docker's `wait: true`: until the health check passes (or the container ends)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.inspect(name)["State"]
            health = (state.get("Health") or {}).get("Status")
            if health == "healthy" or (health is None and state.get("Running")):
                return
            if state.get("Status") in ("exited", "dead"):
                raise EngineApiError(f"{name} exited with code {state.get('ExitCode')}")
            time.sleep(0.25)
        raise EngineApiError(f"{name} was not healthy within {timeout:g} s")
