"""Read a docker stack's containers from the Docker Engine API.

Only reading happens here; docker_derive.py decides what the containers mean. The reads:
the stack's containers by label (`GET /containers/json`), each one's full document
(`GET /containers/{id}/json`, what `docker inspect` prints), and log tails of those that
failed (`GET /containers/{id}/logs`). Every request has a timeout.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from components.identity import PART_OF, PART_OF_KEY, of_stack
from components.status.docker_api import DockerClient, DockerEndpoint
from components.status.docker_containers import DockerSnapshot, container_name, logs_wanted
from components.status.docker_derive import derive_docker_stack
from components.status.docker_log_stream import log_text
from components.status.model import StackExpectation, StackReport, StatusUnavailable

SELECTOR = f"{PART_OF_KEY}={PART_OF}"
LOG_TAIL_LINES = 80
# Replicas that crash usually crash alike: a few logs tell the cause.
MAX_LOGS_PER_READ = 12


def now() -> datetime:
    """The reader's clock (tests pin it to their fixtures' moment)."""
    return datetime.now(UTC)


class DockerStatusReader:
    """One Docker daemon and stack namespace; `read` may be called repeatedly (for --watch)."""

    def __init__(self, namespace: str, docker_host: str | None = None) -> None:
        self.namespace = namespace
        # Raises ReaderSetupError for a DOCKER_HOST this reader cannot use.
        self._client = DockerClient(DockerEndpoint.from_environment(docker_host))

    @property
    def where(self) -> str:
        return self._client.endpoint.url

    def read(self, expectation: StackExpectation) -> StackReport:
        report = derive_docker_stack(expectation, self.snapshot())
        # The report's "context" says where it was read: here, the daemon.
        return replace(report, context=self.where)

    def snapshot(self) -> DockerSnapshot:
        read_at = now()
        containers = [
            document
            for summary in self._list()
            if (document := self._inspect(str(summary.get("Id")))) is not None
        ]
        snapshot = DockerSnapshot(containers=containers, read_at=read_at)
        by_name = {container_name(document): document for document in containers}
        wanted = logs_wanted(self.namespace, snapshot)[:MAX_LOGS_PER_READ]
        logs = {name: text for name in wanted if (text := self._log(by_name[name]))}
        return replace(snapshot, logs=logs)

    def _list(self) -> list[dict[str, Any]]:
        query = urlencode({"all": "1", "filters": json.dumps({"label": [SELECTOR]})})
        listed = self._client.get_json(f"/containers/json?{query}")
        if not isinstance(listed, list):
            raise StatusUnavailable("Docker answered the container list with something else")
        # Other stacks on the same daemon carry the same label: keep this namespace's. The
        # list names containers by path ("/name").
        return [
            summary
            for summary in listed
            if any(
                str(name).startswith("/") and of_stack(self.namespace, str(name)[1:])
                for name in summary.get("Names") or []
            )
        ]

    def _inspect(self, container_id: str) -> dict[str, Any] | None:
        response = self._client.get(f"/containers/{quote(container_id)}/json")
        if response.status == 404:
            return None  # removed since the list was taken (a rollout in progress)
        if response.status != 200:
            raise StatusUnavailable(
                f"Docker answered {response.status} inspecting {container_id}: {response.message}"
            )
        document = response.json()
        return document if isinstance(document, dict) else None

    def _log(self, container: dict[str, Any]) -> str:
        query = urlencode({"stdout": "1", "stderr": "1", "tail": str(LOG_TAIL_LINES)})
        path = f"/containers/{quote(str(container.get('Id')))}/logs?{query}"
        try:
            response = self._client.get(path)
        except StatusUnavailable:
            return ""  # logs are evidence, not essential
        if response.status != 200:
            return ""  # a logging driver without read support, or the container is gone
        tty = bool((container.get("Config") or {}).get("Tty"))
        return log_text(response.body, tty)
