"""A docker status snapshot, small readers of `docker inspect` documents, and which of a
stack's containers belong to which slot. Pure; nothing here talks to the daemon.

Containers are matched to the plan by name, as the docker target names them
(components/identity.py): engines `<namespace>-<workload>-<replica>-<hash>` (the hash
changes with what they run, so another hash is an earlier configuration), loaders
`<namespace>-<loader job>`, and the gateway `<namespace>-gateway`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from components.identity import (
    COMPONENT,
    DEPLOYMENT,
    ENGINE_COMPONENT,
    GATEWAY_COMPONENT,
    MODEL_LOADER,
    SLOT,
    gateway_container,
    loader_container,
    of_stack,
    parse_engine_container,
)
from components.nested_values import dig
from components.status.docker_log_stream import without_ansi
from components.status.log_classifiers import MESSAGE_LIMIT, shorten
from components.status.model import ExpectedSlot

Obj = Mapping[str, Any]

NANOSECONDS = 1e9


@dataclass(frozen=True)
class DockerSnapshot:
    """Everything a reader fetched at one moment, as the Engine API returned it."""

    # `GET /containers/{id}/json` documents.
    containers: Sequence[Obj] = ()
    # Log tails by container name.
    logs: Mapping[str, str] = field(default_factory=dict)
    # When the containers were read; health timing falls back to it.
    read_at: datetime | None = None


# -- small readers of inspect documents ----------------------------------------------------


def container_name(container: Obj) -> str:
    # The API prefixes names with "/" (the container's path under the daemon).
    return str(container.get("Name") or "").lstrip("/")


def labels_of(container: Obj) -> Mapping[str, str]:
    return dig(container, "Config", "Labels") or {}


def component_of(container: Obj) -> str | None:
    return labels_of(container).get(COMPONENT)


def state_of(container: Obj) -> str:
    """created, running, paused, restarting, removing, exited or dead."""
    return str(dig(container, "State", "Status") or "")


def health_of(container: Obj) -> str | None:
    """starting, healthy, unhealthy; None without a health check."""
    return dig(container, "State", "Health", "Status")


def exit_code_of(container: Obj) -> int:
    return int(dig(container, "State", "ExitCode") or 0)


def restarts_of(container: Obj) -> int:
    return int(container.get("RestartCount") or 0)


def is_ready(container: Obj) -> bool:
    return state_of(container) == "running" and health_of(container) in (None, "healthy")


def parse_time(text: str | None) -> datetime | None:
    # Docker writes nanoseconds and "0001-01-01T00:00:00Z" for "never".
    if not text or text.startswith("0001-"):
        return None
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", text)
    if match is None:
        return None
    fraction = (match.group(2) or ".0")[:7]
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.fromisoformat(f"{match.group(1)}{fraction}{zone}").astimezone(UTC)


def health_seconds(container: Obj, key: str, default: float) -> float:
    """A health check setting (Interval, Timeout, StartPeriod) in seconds."""
    value = dig(container, "Config", "Healthcheck", key)
    return float(value) / NANOSECONDS if value else default


def brief(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return shorten(without_ansi(text), limit)


def memory_limit(container: Obj) -> str:
    limit = int(dig(container, "HostConfig", "Memory") or 0)
    if limit == 0:
        return "no limit set"
    mebibytes = limit // 2**20
    return f"{mebibytes // 1024}Gi" if mebibytes % 1024 == 0 else f"{mebibytes}Mi"


def last_probe(container: Obj) -> str:
    probes = dig(container, "State", "Health", "Log") or []
    output = without_ansi(str(probes[-1].get("Output") or "")).strip() if probes else ""
    return output or "no output"


def on_network(container: Obj, network: str) -> bool:
    """Whether the container is attached to the network (a document that lists no networks
    at all says nothing, and counts as attached)."""
    networks = dig(container, "NetworkSettings", "Networks")
    return not isinstance(networks, Mapping) or network in networks


def observed_at(container: Obj, read_at: datetime | None) -> datetime | None:
    """When its state was last seen: its newest health probe (the daemon's clock), else
    when it was read."""
    probes = dig(container, "State", "Health", "Log") or []
    return parse_time(probes[-1].get("Start")) if probes else read_at


def running_for(container: Obj, read_at: datetime | None) -> float | None:
    """Seconds since it started, as of `observed_at`; None when that cannot be told."""
    started = parse_time(dig(container, "State", "StartedAt"))
    seen = observed_at(container, read_at)
    return None if started is None or seen is None else (seen - started).total_seconds()


def past_start_period(container: Obj, read_at: datetime | None) -> bool:
    """Running, its health check not passed yet, and started longer ago than the check's
    start period (the plan's startupTimeoutSeconds)."""
    if state_of(container) != "running" or health_of(container) != "starting":
        return False
    elapsed = running_for(container, read_at)
    window = health_seconds(container, "StartPeriod", 0.0)
    return elapsed is not None and bool(window) and elapsed > window


def loader_failed(container: Obj) -> bool:
    return state_of(container) in ("exited", "dead") and (
        exit_code_of(container) != 0 or bool(dig(container, "State", "Error"))
    )


def loader_done(container: Obj) -> bool:
    return state_of(container) == "exited" and not loader_failed(container)


def engine_in_trouble(container: Obj) -> bool:
    state = state_of(container)
    return (
        state in ("restarting", "exited", "dead")
        or health_of(container) == "unhealthy"
        or (state == "running" and restarts_of(container) > 0)
    )


# -- which containers belong where ---------------------------------------------------------


class StackContainers:
    """The stack's containers (by the namespace prefix), indexed once per derivation."""

    def __init__(self, namespace: str, snapshot: DockerSnapshot) -> None:
        self.namespace = namespace
        self.snapshot = snapshot
        self.by_name = {
            container_name(c): c
            for c in snapshot.containers
            if of_stack(namespace, container_name(c))
        }
        self.gateway = self.by_name.get(gateway_container(namespace))

    def log(self, container: Obj) -> str:
        return self.snapshot.logs.get(container_name(container), "")

    def loader(self, slot: ExpectedSlot) -> Obj | None:
        if not slot.loader_job:
            return None
        return self.by_name.get(loader_container(self.namespace, slot.loader_job))

    def engines(self, deployment: str, slot: ExpectedSlot) -> tuple[list[Obj], list[Obj]]:
        """The slot's engine containers: those the plan names, and those of earlier plans."""
        current, earlier = [], []
        for name, container in sorted(self.by_name.items()):
            labels = labels_of(container)
            if component_of(container) != ENGINE_COMPONENT or labels.get(DEPLOYMENT) != deployment:
                continue
            engine = parse_engine_container(self.namespace, name)
            if labels.get(SLOT) != slot.slot or engine is None or engine.workload != slot.workload:
                continue
            # Zero replicas: whatever runs is left over. No planned names at all (a hand-made
            # expectation): every matching container counts as current.
            planned = slot.instance_names or slot.replicas == 0
            if name in slot.instance_names or not planned:
                current.append(container)
            else:
                earlier.append(container)
        return current, earlier


def logs_wanted(namespace: str, snapshot: DockerSnapshot) -> tuple[str, ...]:
    """Containers whose log tail derivation reads: failing engines and those past their start
    period, failed loaders, the gateway when it is down."""
    tells = {
        ENGINE_COMPONENT: lambda c: (
            not is_ready(c) and (engine_in_trouble(c) or past_start_period(c, snapshot.read_at))
        ),
        MODEL_LOADER: loader_failed,
        GATEWAY_COMPONENT: lambda c: state_of(c) != "running",
    }
    containers = StackContainers(namespace, snapshot).by_name
    return tuple(
        name
        for name, container in sorted(containers.items())
        if (tell := tells.get(component_of(container) or "")) is not None and tell(container)
    )
