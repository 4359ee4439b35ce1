"""Docker containers -> statuses, conditions and error codes. Pure and deterministic.

The docker counterpart of derive.py. Input: `docker inspect` documents of a stack's
containers (engines, cache loaders, the gateway) and log tails of those that failed, as the
Docker Engine API returns them. Output: the same vocabulary as Kubernetes (model.py); log
lines are read by derive.py's classifiers, so both targets name a cause the same way.

Containers are matched to the plan by name, as the docker target names them: engines
`<namespace>-<workload>-<replica>-<hash>` (the hash changes with what they run, so another
hash is an earlier configuration), loaders `<namespace>-<loader job>`, and the gateway
`<namespace>-gateway`. Docker has no Job or Deployment status: a loader's exit code and an
engine's health check (`starting`, `healthy`, `unhealthy`) carry what those would say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from components.status.docker_log_stream import without_ansi
from components.status.log_classifiers import (
    GPU_FAILURE,
    MESSAGE_LIMIT,
    classify_engine_log,
    classify_loader_log,
)
from components.status.model import (
    Condition,
    ConditionType,
    DeploymentStatus,
    ErrorCode,
    ExpectedDeployment,
    ExpectedSlot,
    Instance,
    InstanceRole,
    InstanceStatus,
    Problem,
    SlotReport,
    StackExpectation,
    StackReport,
    problem_status,
)
from components.status.report_rollup import deployment_report, ready_condition, stack_report

Obj = Mapping[str, Any]

COMPONENT = "app.kubernetes.io/component"
DEPLOYMENT = "modelstack.io/deployment"
SLOT = "modelstack.io/slot"
# Set on engines once their loaders exited 0 (docker/model_deployment.py).
CACHE = "modelstack.io/cache"
ENGINE = "inference-engine"
LOADER = "model-loader"
GATEWAY = "gateway"

# Exit codes of a container stopped from outside (`docker stop`: SIGTERM, then SIGKILL).
STOPPED_EXIT_CODES = frozenset({0, 137, 143})
# The nvidia runtime refuses to start a container whose GPUs it cannot provide.
DEVICE_FAILURE = re.compile(r"could not select device driver|nvidia|/dev/(kfd|dri)", re.IGNORECASE)
# Docker's own health check defaults (seconds) when the image or stack sets none.
DEFAULT_INTERVAL_SECONDS = 30.0
DEFAULT_TIMEOUT_SECONDS = 30.0
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


def _dig(obj: Obj | None, *keys: str) -> Any:
    value: Any = obj
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def container_name(container: Obj) -> str:
    # The API prefixes names with "/" (the container's path under the daemon).
    return str(container.get("Name") or "").lstrip("/")


def _labels(container: Obj) -> Mapping[str, str]:
    return _dig(container, "Config", "Labels") or {}


def _component(container: Obj) -> str | None:
    return _labels(container).get(COMPONENT)


def _state(container: Obj) -> str:
    """created, running, paused, restarting, removing, exited or dead."""
    return str(_dig(container, "State", "Status") or "")


def _health(container: Obj) -> str | None:
    """starting, healthy, unhealthy; None without a health check."""
    return _dig(container, "State", "Health", "Status")


def _exit_code(container: Obj) -> int:
    return int(_dig(container, "State", "ExitCode") or 0)


def _restarts(container: Obj) -> int:
    return int(container.get("RestartCount") or 0)


def _is_ready(container: Obj) -> bool:
    return _state(container) == "running" and _health(container) in (None, "healthy")


def _time(text: str | None) -> datetime | None:
    # Docker writes nanoseconds and "0001-01-01T00:00:00Z" for "never".
    if not text or text.startswith("0001-"):
        return None
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", text)
    if match is None:
        return None
    fraction = (match.group(2) or ".0")[:7]
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.fromisoformat(f"{match.group(1)}{fraction}{zone}").astimezone(UTC)


def _seconds(container: Obj, key: str, default: float) -> float:
    value = _dig(container, "Config", "Healthcheck", key)
    return float(value) / NANOSECONDS if value else default


def _brief(text: str) -> str:
    text = " ".join(without_ansi(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def _memory_limit(container: Obj) -> str:
    limit = int(_dig(container, "HostConfig", "Memory") or 0)
    if limit == 0:
        return "no limit set"
    mebibytes = limit // 2**20
    return f"{mebibytes // 1024}Gi" if mebibytes % 1024 == 0 else f"{mebibytes}Mi"


def _last_probe(container: Obj) -> str:
    probes = _dig(container, "State", "Health", "Log") or []
    output = without_ansi(str(probes[-1].get("Output") or "")).strip() if probes else ""
    return output or "no output"


# -- which containers belong where ---------------------------------------------------------


class _Containers:
    """The stack's containers (by the namespace prefix), indexed once per derivation."""

    def __init__(self, namespace: str, snapshot: DockerSnapshot) -> None:
        self.namespace = namespace
        self.snapshot = snapshot
        prefix = f"{namespace}-"
        self.by_name = {
            container_name(c): c
            for c in snapshot.containers
            if container_name(c).startswith(prefix)
        }
        self.gateway = self.by_name.get(f"{namespace}-gateway")

    def log(self, container: Obj) -> str:
        return self.snapshot.logs.get(container_name(container), "")

    def loader(self, slot: ExpectedSlot) -> Obj | None:
        return self.by_name.get(f"{self.namespace}-{slot.loader_job}") if slot.loader_job else None

    def engines(self, deployment: str, slot: ExpectedSlot) -> tuple[list[Obj], list[Obj]]:
        """The slot's engine containers: those the plan names, and those of earlier plans."""
        shape = re.compile(rf"{re.escape(self.namespace)}-{re.escape(slot.workload)}-\d+-[0-9a-f]+")
        current, earlier = [], []
        for name, container in sorted(self.by_name.items()):
            labels = _labels(container)
            if _component(container) != ENGINE or labels.get(DEPLOYMENT) != deployment:
                continue
            if labels.get(SLOT) != slot.slot or not shape.fullmatch(name):
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
    """Containers whose log tail derivation reads: failing engines, failed loaders, the gateway
    when it is down."""
    tells = {
        ENGINE: lambda c: not _is_ready(c) and _engine_in_trouble(c),
        LOADER: _loader_failed,
        GATEWAY: lambda c: _state(c) != "running",
    }
    containers = _Containers(namespace, snapshot).by_name
    return tuple(
        name
        for name, container in sorted(containers.items())
        if (tell := tells.get(_component(container) or "")) is not None and tell(container)
    )


def _engine_in_trouble(container: Obj) -> bool:
    state = _state(container)
    return (
        state in ("restarting", "exited", "dead")
        or _health(container) == "unhealthy"
        or (state == "running" and _restarts(container) > 0)
    )


# -- engines -------------------------------------------------------------------------------


def engine_problems(container: Obj, log: str, read_at: datetime | None) -> tuple[Problem, ...]:
    """Why an engine container does not serve, from its state, health check and log."""
    source = f"container {container_name(container)}"
    state = _state(container)
    start_error = str(_dig(container, "State", "Error") or "")
    if start_error:
        # The daemon could not start it (devices, mounts, a missing entrypoint).
        code = ErrorCode.CUDA_ERROR if _gpu_trouble(start_error) else ErrorCode.RUNTIME_ERROR
        return (Problem(code, _brief(f"Docker could not start it: {start_error}"), source),)
    if state == "paused":
        message = f"paused: `docker unpause {container_name(container)}` resumes it"
        return (Problem(ErrorCode.RUNTIME_ERROR, message, source),)
    if state in ("restarting", "exited", "dead"):
        problem = _exit_problem(container, log, source)
        return (problem,) if problem else ()
    if state != "running":
        return ()
    if _health(container) == "unhealthy":
        return (_unhealthy_problem(container, log, read_at, source),)
    if _restarts(container) > 0 and not _is_ready(container):
        # Running again after a crash and loading: only specific evidence counts yet.
        if _dig(container, "State", "OOMKilled") and not _first_oom(container):
            return (_oom(container, source),)
        found = classify_engine_log(log)
        if found and found[0] is not ErrorCode.RUNTIME_ERROR:
            return (Problem(found[0], found[1], source),)
    return ()


def _gpu_trouble(text: str) -> bool:
    return bool(GPU_FAILURE.search(text) or DEVICE_FAILURE.search(text))


def _oom(container: Obj, source: str) -> Problem:
    limit = _memory_limit(container)
    return Problem(ErrorCode.OOM, f"killed for using more memory than its limit ({limit})", source)


def _first_oom(container: Obj) -> bool:
    """Killed for memory once and restarted by Docker: a burst may pass; twice is a pattern."""
    return _restarts(container) <= 1 and _state(container) in ("running", "restarting")


def _exit_problem(container: Obj, log: str, source: str) -> Problem | None:
    """An engine that ended: OOM, a cause in its log, a stop from outside, or a plain exit."""
    if _dig(container, "State", "OOMKilled"):
        if _first_oom(container):
            return None
        return _oom(container, source)
    code = _exit_code(container)
    restarting = _state(container) == "restarting"
    found = classify_engine_log(log)
    if found and found[0] is not ErrorCode.RUNTIME_ERROR:
        return Problem(found[0], found[1], source)
    name = container_name(container)
    if not restarting and code in STOPPED_EXIT_CODES:
        # `restart: unless-stopped` restarts crashes, not `docker stop`: someone stopped it.
        message = (
            f"not running: stopped with exit code {code} and not restarted; "
            f"`docker start {name}` or `pulumi up --refresh` brings it back"
        )
        return Problem(ErrorCode.RUNTIME_ERROR, message, source)
    if found:
        return Problem(found[0], found[1], source)
    again = f" and keeps restarting ({_restarts(container)} restarts)" if restarting else ""
    return Problem(ErrorCode.CONTAINER_EXITED, f"exited with code {code}{again}", source)


def _unhealthy_problem(container: Obj, log: str, read_at: datetime | None, source: str) -> Problem:
    found = classify_engine_log(log)
    if found and found[0] is not ErrorCode.RUNTIME_ERROR:
        return Problem(found[0], found[1], source)
    probe = _last_probe(container)
    streak = int(_dig(container, "State", "Health", "FailingStreak") or 0)
    if _never_healthy(container, read_at):
        start_period = _seconds(container, "StartPeriod", 0.0)
        message = (
            f"its health check has not passed in the {start_period:g}s start period "
            f"(failing {streak} times since): {probe}"
        )
        return Problem(ErrorCode.STARTUP_TIMEOUT, _brief(message), source)
    if found:
        return Problem(found[0], found[1], source)
    message = f"stopped answering its health check ({streak} failures in a row): {probe}"
    return Problem(ErrorCode.RUNTIME_ERROR, _brief(message), source)


def _never_healthy(container: Obj, read_at: datetime | None) -> bool:
    """Whether the failing streak spans all the time since the start period ended.

    Docker does not record that a container was healthy once. Failures inside the start
    period do not count until the first success, so a container that never answered has
    failed every probe since the start period ended, and one that answered once has a
    streak that started later (or earlier, when it failed inside its start period).
    """
    started = _time(_dig(container, "State", "StartedAt"))
    probes = _dig(container, "State", "Health", "Log") or []
    newest = _time(probes[-1].get("Start")) if probes else read_at
    if started is None or newest is None:
        return True  # nothing tells otherwise: the plain reading of "unhealthy" at start
    interval = _seconds(container, "Interval", DEFAULT_INTERVAL_SECONDS)
    timeout = _seconds(container, "Timeout", DEFAULT_TIMEOUT_SECONDS)
    streak = int(_dig(container, "State", "Health", "FailingStreak") or 0)
    past_start_period = (newest - started).total_seconds() - _seconds(container, "StartPeriod", 0.0)
    # Probes run `interval` after the previous one ended, so each may add up to `timeout`.
    earliest = (streak - 2) * interval
    latest = streak * (interval + timeout) + interval
    return earliest <= past_start_period <= latest


def engine_instance(
    container: Obj, problems: tuple[Problem, ...], *, earlier: bool = False
) -> Instance:
    status, detail = _engine_state(container, problems)
    if earlier:
        detail += "; not what the stack file asks for now: `pulumi up` replaces or removes it"
    return Instance(
        name=container_name(container),
        role=InstanceRole.ENGINE,
        status=status,
        ready=_is_ready(container),
        restarts=_restarts(container),
        node=None,  # one machine
        detail=detail,
        problems=problems,
    )


def _engine_state(container: Obj, problems: tuple[Problem, ...]) -> tuple[InstanceStatus, str]:
    state = _state(container)
    if state in ("removing", "dead"):
        return InstanceStatus.TERMINATING, "being removed"
    failing = problem_status(problems)
    if failing is not None:
        return InstanceStatus(failing.value), ", ".join(p.code.value for p in problems)
    if _is_ready(container):
        return InstanceStatus.DEPLOYED, "healthy" if _health(container) else "running"
    if _dig(container, "State", "OOMKilled") and _first_oom(container):
        limit = _memory_limit(container)
        return InstanceStatus.STARTING, f"restarted after running out of memory once ({limit})"
    if state == "running":
        return InstanceStatus.STARTING, "loading the model (health check not passed yet)"
    if state == "restarting":
        return InstanceStatus.STARTING, "restarting"
    return InstanceStatus.STARTING, f"{state or 'created'}, not started yet"


# -- the cache loader ----------------------------------------------------------------------


def _loader_failed(container: Obj) -> bool:
    return _state(container) in ("exited", "dead") and (
        _exit_code(container) != 0 or bool(_dig(container, "State", "Error"))
    )


def _loader_done(container: Obj) -> bool:
    return _state(container) == "exited" and not _loader_failed(container)


def loader_problems(container: Obj, log: str) -> tuple[Problem, ...]:
    """A loader that gave up: why, from its log (a wrong source or token, or try again)."""
    if not _loader_failed(container):
        return ()
    code, evidence = classify_loader_log(log)
    if _dig(container, "State", "OOMKilled"):
        evidence = f"killed for using more memory than its limit ({_memory_limit(container)})"
    elif not log.strip():
        evidence = str(_dig(container, "State", "Error") or "no log left")
    name = container_name(container)
    message = f"the cache loader exited with code {_exit_code(container)}"
    if code is ErrorCode.MUST_REDOWNLOAD:
        # A failed loader is not kept in Pulumi's state (docker/loader.py): it runs again.
        message += " (the next `pulumi up` runs it again)"
    return (Problem(code, _brief(f"{message}: {evidence}"), f"container {name}"),)


def loader_instance(container: Obj, problems: tuple[Problem, ...]) -> Instance:
    failing = problem_status(problems)
    if failing is not None:
        status = InstanceStatus(failing.value)
        detail = ", ".join(p.code.value for p in problems)
    elif _state(container) == "running":
        status, detail = InstanceStatus.COPYING_FILES, "copying the model into the cache"
    else:
        status, detail = InstanceStatus.REQUESTED, f"{_state(container)}, not started yet"
    return Instance(
        name=container_name(container),
        role=InstanceRole.LOADER,
        status=status,
        ready=False,
        restarts=_restarts(container),
        node=None,
        detail=detail,
        problems=problems,
    )


def cache_condition(
    slot: ExpectedSlot,
    loader: Obj | None,
    engines: Sequence[Obj],
    problems: tuple[Problem, ...],
    namespace: str,
) -> Condition:
    kind = ConditionType.CACHE_READY
    if slot.loader_job is None:
        return Condition(kind, True, "NoDownload", "the model is read where it is; no cache")
    name = f"{namespace}-{slot.loader_job}"
    if loader is not None and _loader_done(loader):
        return Condition(kind, True, "CacheWarm", f"loader container {name} completed")
    if problems:
        first = problems[0]
        return Condition(kind, False, "CacheFailed", f"{first.code.value}: {first.message}")
    if loader is None:
        if any(_labels(engine).get(CACHE) == "ready" for engine in engines):
            message = "engine containers were created after the loader completed"
            return Condition(kind, True, "CacheWarm", message)
        return Condition(kind, False, "WaitingForCache", f"loader container {name} does not exist")
    if _state(loader) == "running":
        message = f"loader container {name} is copying the model"
        return Condition(kind, False, "CacheWarming", message)
    return Condition(kind, False, "WaitingForCache", f"loader container {name} has not started")


# -- runtime and routing -------------------------------------------------------------------


def runtime_condition(
    slot: ExpectedSlot,
    current: Sequence[Obj],
    earlier: Sequence[Obj],
    problems: tuple[Problem, ...],
) -> Condition:
    kind = ConditionType.RUNTIME_READY
    leftovers = [c for c in [*current, *earlier] if _state(c) in ("running", "restarting")]
    if slot.replicas == 0:
        message = "zero replicas in the stack file"
        if leftovers:
            message += f"; {len(leftovers)} container(s) still run until `pulumi up` removes them"
        return Condition(kind, False, "Stopped", message)
    if problems:
        first = problems[0]
        return Condition(kind, False, "RuntimeFailed", f"{first.code.value}: {first.message}")
    ready = sum(1 for container in current if _is_ready(container))
    missing = _missing(slot, current)
    message = f"{ready}/{slot.replicas} containers healthy"
    if not missing and not earlier and ready >= slot.replicas:
        return Condition(kind, True, "RuntimeReady", message)
    if missing:
        # An image that cannot be pulled also leaves them missing; `pulumi up` says so.
        message += f"; {len(missing)} not created yet ({', '.join(missing)})"
    if earlier:
        message += f"; {len(earlier)} of an earlier configuration still exist"
    return Condition(kind, False, "CreatingRuntime", _brief(message))


def _missing(slot: ExpectedSlot, current: Sequence[Obj]) -> list[str]:
    present = {container_name(container) for container in current}
    if slot.instance_names:
        return [name for name in slot.instance_names if name not in present]
    return [f"{slot.workload}-{index}" for index in range(len(present), slot.replicas)]


def gateway_problems(gateway: Obj | None, log: str) -> tuple[Problem, ...]:
    """A gateway that ran and stopped: every route of the stack fails until it is back."""
    if gateway is None or _state(gateway) in ("running", "created"):
        return ()
    name = container_name(gateway)
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    evidence = f": {lines[-1]}" if lines else ""
    message = f"the gateway is {_state(gateway)} (exit code {_exit_code(gateway)}){evidence}"
    return (Problem(ErrorCode.RUNTIME_ERROR, _brief(message), f"container {name}"),)


def routing_condition(
    deployment: ExpectedDeployment, slot: ExpectedSlot, gateway: Obj | None, namespace: str
) -> Condition:
    """The serving slot is reached through the gateway; another slot only by container name."""
    kind = ConditionType.ROUTING_READY
    if not slot.serving:
        message = f"not serving: the gateway sends requests to slot {deployment.serving_slot}"
        return Condition(kind, True, "Idle", message)
    name = f"{namespace}-gateway"
    if gateway is None:
        return Condition(kind, False, "ConfiguringRoute", f"gateway container {name} not found")
    state, health = _state(gateway), _health(gateway)
    if state != "running":
        return Condition(kind, False, "GatewayDown", f"gateway container {name} is {state}")
    if health == "unhealthy":
        message = f"gateway container {name} fails its health check: {_last_probe(gateway)}"
        return Condition(kind, False, "GatewayUnhealthy", _brief(message))
    if health == "starting":
        # nginx starts once `pulumi up` writes its config, after loaders and engines.
        message = (
            f"gateway container {name} has not passed its first health check yet (nginx "
            "starts once `pulumi up` has written its config, after the engines are up)"
        )
        return Condition(kind, False, "ConfiguringRoute", message)
    message = f"gateway container {name} is running" + (f" ({health})" if health else "")
    return Condition(kind, True, "RouteReady", message)


# -- statuses ------------------------------------------------------------------------------


def slot_status(
    slot: ExpectedSlot,
    conditions: Mapping[ConditionType, Condition],
    problems: tuple[Problem, ...],
    current: Sequence[Obj],
    earlier: Sequence[Obj],
    loader: Obj | None,
) -> DeploymentStatus:
    if slot.replicas == 0:
        running = any(_state(c) in ("running", "restarting") for c in [*current, *earlier])
        # Stopped in the stack file, engines still up: `pulumi up` has not removed them yet.
        return DeploymentStatus.DEPLOYING if running else DeploymentStatus.STOPPED
    failing = problem_status(problems)
    if failing is not None:
        return failing
    if not current and not earlier and loader is None:
        return DeploymentStatus.REQUESTED
    if conditions[ConditionType.READY].status:
        return DeploymentStatus.DEPLOYED
    if conditions[ConditionType.RUNTIME_READY].status:
        return DeploymentStatus.DEPLOYING  # engines healthy, the gateway not there yet
    if not conditions[ConditionType.CACHE_READY].status:
        return DeploymentStatus.DEPLOYING
    if any(_state(container) == "running" for container in current):
        return DeploymentStatus.INITIALIZING
    return DeploymentStatus.DEPLOYING


def derive_slot(
    deployment: ExpectedDeployment, slot: ExpectedSlot, containers: _Containers
) -> SlotReport:
    namespace, read_at = containers.namespace, containers.snapshot.read_at
    current, earlier = containers.engines(deployment.name, slot)
    loader = containers.loader(slot)
    cache_problems = loader_problems(loader, containers.log(loader)) if loader else ()
    engines = [
        *(engine_instance(c, engine_problems(c, containers.log(c), read_at)) for c in current),
        *(
            engine_instance(c, engine_problems(c, containers.log(c), read_at), earlier=True)
            for c in earlier
        ),
    ]
    show_loader = loader is not None and not _loader_done(loader)
    loaders = (loader_instance(loader, cache_problems),) if loader and show_loader else ()
    # Zero replicas: what is left runs until `pulumi up` removes it; its troubles do not count.
    runtime_problems = (
        tuple(p for instance in engines for p in instance.problems) if slot.replicas else ()
    )
    gateway = containers.gateway
    route_problems = (
        gateway_problems(gateway, containers.log(gateway) if gateway else "")
        if slot.serving
        else ()
    )

    cache = cache_condition(slot, loader, current, cache_problems, namespace)
    runtime = runtime_condition(slot, current, earlier, runtime_problems)
    routing = routing_condition(deployment, slot, gateway, namespace)
    conditions = {
        c.type: c for c in (cache, runtime, routing, ready_condition(cache, runtime, routing))
    }
    problems = _each_cause_once(cache_problems + runtime_problems + route_problems)
    return SlotReport(
        slot=slot.slot,
        workload=slot.workload,
        serving=slot.serving,
        status=slot_status(slot, conditions, problems, current, earlier, loader),
        desired_replicas=slot.replicas,
        ready_replicas=sum(1 for container in current if _is_ready(container)),
        conditions=tuple(conditions.values()),
        instances=loaders + tuple(engines),
        problems=problems,
    )


def _each_cause_once(problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    """Replicas usually fail alike: one problem per code and message, the first source kept."""
    kept: dict[tuple[ErrorCode, str], Problem] = {}
    for problem in problems:
        kept.setdefault((problem.code, problem.message), problem)
    return tuple(kept.values())


def derive_docker_stack(expectation: StackExpectation, snapshot: DockerSnapshot) -> StackReport:
    containers = _Containers(expectation.namespace, snapshot)
    deployments = tuple(
        deployment_report(d, tuple(derive_slot(d, slot, containers) for slot in d.slots))
        for d in expectation.deployments
    )
    # Containers left under the stack's namespace of deployments it no longer declares.
    labelled = (_labels(container).get(DEPLOYMENT) for container in containers.by_name.values())
    return stack_report(expectation, deployments, labelled)
