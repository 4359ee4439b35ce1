"""Engine containers -> instances and problems: start failures, crashes, OOM kills, health
checks that fail from the start (a startup timeout) or later. The docker counterpart of
kubernetes_pod_facts.py; Docker has no Deployment status, so an engine's state, exit code and
health check (`starting`, `healthy`, `unhealthy`) carry what that would say.
"""

from __future__ import annotations

import re
from datetime import datetime

from components.status.docker_containers import (
    Obj,
    brief,
    container_name,
    dig,
    exit_code_of,
    health_of,
    health_seconds,
    is_ready,
    last_probe,
    memory_limit,
    past_start_period,
    restarts_of,
    running_for,
    state_of,
)
from components.status.log_classifiers import EVIDENCE_LIMIT, GPU_FAILURE, classify_engine_log
from components.status.model import (
    ErrorCode,
    Instance,
    InstanceRole,
    InstanceStatus,
    Problem,
    problem_status,
)

# Exit codes of a container stopped from outside (`docker stop`: SIGTERM, then SIGKILL).
STOPPED_EXIT_CODES = frozenset({0, 137, 143})
# The nvidia runtime refuses to start a container whose GPUs it cannot provide.
DEVICE_FAILURE = re.compile(r"could not select device driver|nvidia|/dev/(kfd|dri)", re.IGNORECASE)
# Docker's own health check defaults (seconds) when the image or stack sets none.
DEFAULT_INTERVAL_SECONDS = 30.0
DEFAULT_TIMEOUT_SECONDS = 30.0


def engine_problems(container: Obj, log: str, read_at: datetime | None) -> tuple[Problem, ...]:
    """Why an engine container does not serve, from its state, health check and log."""
    source = f"container {container_name(container)}"
    state = state_of(container)
    start_error = str(dig(container, "State", "Error") or "")
    if start_error:
        # The daemon could not start it (devices, mounts, a missing entrypoint).
        code = ErrorCode.CUDA_ERROR if _gpu_trouble(start_error) else ErrorCode.RUNTIME_ERROR
        return (Problem(code, brief(f"Docker could not start it: {start_error}"), source),)
    if state == "paused":
        message = f"paused: `docker unpause {container_name(container)}` resumes it"
        return (Problem(ErrorCode.RUNTIME_ERROR, message, source),)
    if state in ("restarting", "exited", "dead"):
        problem = _exit_problem(container, log, source)
        return (problem,) if problem else ()
    if state != "running":
        return ()
    if health_of(container) == "unhealthy":
        return (_unhealthy_problem(container, log, read_at, source),)
    if restarts_of(container) > 0 and not is_ready(container):
        # Running again after a crash and loading: only specific evidence counts yet.
        if dig(container, "State", "OOMKilled") and not _first_oom(container):
            return (_oom(container, source),)
        found = classify_engine_log(log)
        if found and found[0] is not ErrorCode.RUNTIME_ERROR:
            return (Problem(found[0], found[1], source),)
    return ()


def _gpu_trouble(text: str) -> bool:
    return bool(GPU_FAILURE.search(text) or DEVICE_FAILURE.search(text))


def _oom(container: Obj, source: str) -> Problem:
    limit = memory_limit(container)
    return Problem(ErrorCode.OOM, f"killed for using more memory than its limit ({limit})", source)


def _first_oom(container: Obj) -> bool:
    """Killed for memory once and restarted by Docker: a burst may pass; twice is a pattern."""
    return restarts_of(container) <= 1 and state_of(container) in ("running", "restarting")


def _exit_problem(container: Obj, log: str, source: str) -> Problem | None:
    """An engine that ended: OOM, a cause in its log, a stop from outside, or a plain exit."""
    if dig(container, "State", "OOMKilled"):
        if _first_oom(container):
            return None
        return _oom(container, source)
    code = exit_code_of(container)
    restarting = state_of(container) == "restarting"
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
    again = f" and keeps restarting ({restarts_of(container)} restarts)" if restarting else ""
    return Problem(ErrorCode.CONTAINER_EXITED, f"exited with code {code}{again}", source)


def _unhealthy_problem(container: Obj, log: str, read_at: datetime | None, source: str) -> Problem:
    found = classify_engine_log(log)
    if found and found[0] is not ErrorCode.RUNTIME_ERROR:
        return Problem(found[0], found[1], source)
    probe = last_probe(container)
    streak = int(dig(container, "State", "Health", "FailingStreak") or 0)
    if _never_healthy(container, read_at):
        start_period = health_seconds(container, "StartPeriod", 0.0)
        message = (
            f"its health check has not passed in the {start_period:g}s start period "
            f"(failing {streak} times since): {probe}"
        )
        return Problem(ErrorCode.STARTUP_TIMEOUT, brief(message), source)
    if found:
        return Problem(found[0], found[1], source)
    message = f"stopped answering its health check ({streak} failures in a row): {probe}"
    return Problem(ErrorCode.RUNTIME_ERROR, brief(message), source)


def _never_healthy(container: Obj, read_at: datetime | None) -> bool:
    """Whether the failing streak spans all the time since the start period ended.

    Docker does not record that a container was healthy once. Failures inside the start
    period do not count until the first success, so a container that never answered has
    failed every probe since the start period ended, and one that answered once has a
    streak that started later (or earlier, when it failed inside its start period).
    """
    elapsed = running_for(container, read_at)
    if elapsed is None:
        return True  # nothing tells otherwise: the plain reading of "unhealthy" at start
    interval = health_seconds(container, "Interval", DEFAULT_INTERVAL_SECONDS)
    timeout = health_seconds(container, "Timeout", DEFAULT_TIMEOUT_SECONDS)
    streak = int(dig(container, "State", "Health", "FailingStreak") or 0)
    start_period = health_seconds(container, "StartPeriod", 0.0)
    past_start_period = elapsed - start_period
    # Probes run `interval` after the previous one ended, so each may add up to `timeout`.
    earliest = (streak - 2) * interval
    latest = streak * (interval + timeout) + interval
    return earliest <= past_start_period <= latest


def overdue_evidence(container: Obj, log: str, read_at: datetime | None) -> str | None:
    """Past its start period and not healthy yet, nor judged unhealthy: the window, how long
    ago it started, the last health check and the last log line."""
    if not past_start_period(container, read_at):
        return None
    window = health_seconds(container, "StartPeriod", 0.0)
    elapsed = running_for(container, read_at) or 0.0
    parts = [
        f"not healthy within its {window:g}s window (startupTimeoutSeconds), "
        f"started {elapsed:.0f}s ago"
    ]
    lines = [line for line in log.splitlines() if line.strip()]
    if lines:
        parts.append(f"log: {brief(lines[-1], EVIDENCE_LIMIT)}")
    parts.append(f"last health check: {brief(last_probe(container), EVIDENCE_LIMIT)}")
    return brief("; ".join(parts))


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
        ready=is_ready(container),
        restarts=restarts_of(container),
        node=None,  # one machine
        detail=detail,
        problems=problems,
    )


def _engine_state(container: Obj, problems: tuple[Problem, ...]) -> tuple[InstanceStatus, str]:
    state = state_of(container)
    if state in ("removing", "dead"):
        return InstanceStatus.TERMINATING, "being removed"
    failing = problem_status(problems)
    if failing is not None:
        return InstanceStatus(failing.value), ", ".join(p.code.value for p in problems)
    if is_ready(container):
        return InstanceStatus.DEPLOYED, "healthy" if health_of(container) else "running"
    if dig(container, "State", "OOMKilled") and _first_oom(container):
        limit = memory_limit(container)
        return InstanceStatus.STARTING, f"restarted after running out of memory once ({limit})"
    if state == "running":
        return InstanceStatus.STARTING, "loading the model (health check not passed yet)"
    if state == "restarting":
        return InstanceStatus.STARTING, "restarting"
    return InstanceStatus.STARTING, f"{state or 'created'}, not started yet"
