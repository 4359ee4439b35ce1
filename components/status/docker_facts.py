"""Docker containers -> the facts of each slot. Pure and deterministic.

The docker counterpart of kubernetes_facts.py. Input: `docker inspect` documents of a stack's
containers (engines, cache loaders, the gateway) and log tails of those that failed
(docker_containers.py reads them; engines: docker_engine_facts.py). Output: per slot, what
the containers show of its cache, engines and route (`SlotFacts`); slot_rules.py decides the
conditions and statuses, as for Kubernetes, and log_classifiers.py reads the logs, so both
targets name a cause the same way. Docker has no Job status: a loader's exit code carries it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from components.identity import (
    CACHE_COMPLETE,
    CACHE_STATE,
    docker_network,
    gateway_container,
    loader_container,
)
from components.status.docker_containers import (
    Obj,
    StackContainers,
    brief,
    container_name,
    dig,
    exit_code_of,
    health_of,
    is_ready,
    labels_of,
    last_probe,
    loader_done,
    loader_failed,
    memory_limit,
    on_network,
    restarts_of,
    running_for,
    state_of,
)
from components.status.docker_engine_facts import (
    engine_instance,
    engine_problems,
    overdue_evidence,
)
from components.status.log_classifiers import classify_loader_log
from components.status.model import (
    ErrorCode,
    ExpectedDeployment,
    ExpectedSlot,
    Instance,
    InstanceRole,
    InstanceStatus,
    Problem,
    problem_status,
)
from components.status.slot_rules import (
    CacheFacts,
    LoaderState,
    RouteFacts,
    RouteState,
    RuntimeFacts,
    SlotFacts,
    loader_overdue,
)

# -- the cache loader ----------------------------------------------------------------------


def loader_problems(container: Obj, log: str) -> tuple[Problem, ...]:
    """A loader that gave up: why, from its log (a wrong source or token, or try again)."""
    if not loader_failed(container):
        return ()
    code, evidence = classify_loader_log(log)
    if dig(container, "State", "OOMKilled"):
        evidence = f"killed for using more memory than its limit ({memory_limit(container)})"
    elif not log.strip():
        evidence = str(dig(container, "State", "Error") or "no log left")
    name = container_name(container)
    message = f"the cache loader exited with code {exit_code_of(container)}"
    if code is ErrorCode.MUST_REDOWNLOAD:
        # A failed loader is not kept in Pulumi's state (docker/loader.py): it runs again.
        message += " (the next `pulumi up` runs it again)"
    return (Problem(code, brief(f"{message}: {evidence}"), f"container {name}"),)


def loader_instance(container: Obj, problems: tuple[Problem, ...]) -> Instance:
    failing = problem_status(problems)
    if failing is not None:
        status = InstanceStatus(failing.value)
        detail = ", ".join(p.code.value for p in problems)
    elif state_of(container) == "running":
        status, detail = InstanceStatus.COPYING_FILES, "copying the model into the cache"
    else:
        status, detail = InstanceStatus.REQUESTED, f"{state_of(container)}, not started yet"
    return Instance(
        name=container_name(container),
        role=InstanceRole.LOADER,
        status=status,
        ready=False,
        restarts=restarts_of(container),
        node=None,
        detail=detail,
        problems=problems,
    )


def cache_facts(
    slot: ExpectedSlot,
    loader: Obj | None,
    engines: Sequence[Obj],
    problems: tuple[Problem, ...],
    namespace: str,
    window: int | None = None,
    read_at: datetime | None = None,
) -> CacheFacts:
    if slot.loader_job is None:
        return CacheFacts(None)
    what = f"loader container {loader_container(namespace, slot.loader_job)}"
    if loader is None:
        # Engines are labelled once their loaders completed (docker/model_deployment.py).
        found = any(labels_of(engine).get(CACHE_STATE) == CACHE_COMPLETE for engine in engines)
        evidence = "engine containers were created after the loader completed"
        return CacheFacts(
            LoaderState.ABSENT,
            f"{what} does not exist",
            problems,
            found_by_engines=evidence if found else None,
        )
    if loader_done(loader):
        return CacheFacts(LoaderState.COMPLETE, f"{what} completed", problems)
    if loader_failed(loader):
        return CacheFacts(LoaderState.FAILED, f"{what} failed", problems)
    if state_of(loader) == "running":
        copying = running_for(loader, read_at)
        overdue = loader_overdue(what, copying, window)
        message = f"{what} is copying the model"
        return CacheFacts(LoaderState.COPYING, message, problems, overdue=overdue)
    return CacheFacts(LoaderState.WAITING, f"{what} has not started", problems)


# -- engines -------------------------------------------------------------------------------


def runtime_facts(
    slot: ExpectedSlot,
    current: Sequence[Obj],
    earlier: Sequence[Obj],
    problems: tuple[Problem, ...],
    unreachable: Sequence[Obj] = (),
    overdue: str | None = None,
) -> RuntimeFacts:
    ready = sum(1 for container in current if is_ready(container))
    cut_off = {container_name(container) for container in unreachable}
    answering = sum(1 for c in current if is_ready(c) and container_name(c) not in cut_off)
    leftovers = [c for c in [*current, *earlier] if state_of(c) in ("running", "restarting")]
    loading = any(state_of(container) == "running" for container in current)
    if slot.replicas == 0:
        message = "zero replicas in the stack file"
        if leftovers:
            message += f"; {len(leftovers)} container(s) still run until `pulumi up` removes them"
        return RuntimeFacts(
            0, ready, message, problems, stopped=True, loading=loading, winding_down=bool(leftovers)
        )
    missing = _missing(slot, current)
    message = f"{ready}/{slot.replicas} containers healthy"
    complete = not missing and not earlier and ready >= slot.replicas
    if not complete:
        if missing:
            # An image that cannot be pulled also leaves them missing; `pulumi up` says so.
            message += f"; {len(missing)} not created yet ({', '.join(missing)})"
        if earlier:
            message += f"; {len(earlier)} of an earlier configuration still exist"
        message = brief(message)
    return RuntimeFacts(
        slot.replicas,
        ready,
        message,
        problems,
        complete=complete,
        loading=loading,
        answering=answering,
        overdue=None if complete else overdue,
    )


def _missing(slot: ExpectedSlot, current: Sequence[Obj]) -> list[str]:
    present = {container_name(container) for container in current}
    if slot.instance_names:
        return [name for name in slot.instance_names if name not in present]
    return [f"{slot.workload}-{index}" for index in range(len(present), slot.replicas)]


# -- the gateway ---------------------------------------------------------------------------


def gateway_problems(gateway: Obj | None, log: str) -> tuple[Problem, ...]:
    """A gateway that ran and stopped: every route of the stack fails until it is back."""
    if gateway is None or state_of(gateway) in ("running", "created"):
        return ()
    name = container_name(gateway)
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    evidence = f": {lines[-1]}" if lines else ""
    message = f"the gateway is {state_of(gateway)} (exit code {exit_code_of(gateway)}){evidence}"
    return (Problem(ErrorCode.RUNTIME_ERROR, brief(message), f"container {name}"),)


def unreachable_engines(gateway: Obj | None, current: Sequence[Obj], namespace: str) -> list[Obj]:
    """Running engines the gateway cannot reach: not on the stack's network, or all of them
    when the gateway is not."""
    network = docker_network(namespace)
    running = [c for c in current if state_of(c) == "running"]
    if gateway is not None and not on_network(gateway, network):
        return running
    return [c for c in running if not on_network(c, network)]


def reach_problems(
    gateway: Obj | None, unreachable: Sequence[Obj], namespace: str
) -> tuple[Problem, ...]:
    network = docker_network(namespace)
    if gateway is not None and unreachable and not on_network(gateway, network):
        message = f"the gateway is not on network {network}: it reaches no engine"
        return (
            Problem(ErrorCode.ROUTING_FAILURE, message, f"container {container_name(gateway)}"),
        )
    return tuple(
        Problem(
            ErrorCode.ROUTING_FAILURE,
            f"{container_name(c)} is not on network {network}: the gateway cannot reach it",
            f"container {container_name(c)}",
        )
        for c in unreachable
    )


def route_facts(
    deployment: ExpectedDeployment,
    slot: ExpectedSlot,
    gateway: Obj | None,
    namespace: str,
    problems: tuple[Problem, ...],
    unreachable: Sequence[Obj] = (),
) -> RouteFacts:
    """The serving slot is reached through the gateway; another slot only by container name."""
    if not slot.serving:
        message = f"not serving: the gateway sends requests to slot {deployment.serving_slot}"
        return RouteFacts(RouteState.IDLE, message, problems)
    name = gateway_container(namespace)
    if gateway is None:
        return RouteFacts(RouteState.CONFIGURING, f"gateway container {name} not found", problems)
    state, health = state_of(gateway), health_of(gateway)
    if state != "running":
        return RouteFacts(RouteState.DOWN, f"gateway container {name} is {state}", problems)
    if health == "unhealthy":
        message = f"gateway container {name} fails its health check: {last_probe(gateway)}"
        return RouteFacts(RouteState.UNHEALTHY, brief(message), problems)
    if health == "starting":
        # nginx starts once `pulumi up` writes its config, after loaders and engines.
        message = (
            f"gateway container {name} has not passed its first health check yet (nginx "
            "starts once `pulumi up` has written its config, after the engines are up)"
        )
        return RouteFacts(RouteState.CONFIGURING, message, problems)
    message = f"gateway container {name} is running" + (f" ({health})" if health else "")
    if unreachable:
        cut_off = reach_problems(gateway, unreachable, namespace)
        message += f", but cannot reach {len(unreachable)} engine(s): {cut_off[0].message}"
        return RouteFacts(RouteState.INCOMPLETE, brief(message), problems + cut_off)
    return RouteFacts(RouteState.SERVING, message, problems)


# -- the slot ------------------------------------------------------------------------------


def slot_facts(
    deployment: ExpectedDeployment, slot: ExpectedSlot, containers: StackContainers
) -> SlotFacts:
    namespace, read_at = containers.namespace, containers.snapshot.read_at
    current, earlier = containers.engines(deployment.name, slot)
    loader = containers.loader(slot)
    cache_problems = loader_problems(loader, containers.log(loader)) if loader else ()
    current_problems = [engine_problems(c, containers.log(c), read_at) for c in current]
    engines = [
        *(engine_instance(c, found) for c, found in zip(current, current_problems, strict=True)),
        *(
            engine_instance(c, engine_problems(c, containers.log(c), read_at), earlier=True)
            for c in earlier
        ),
    ]
    show_loader = loader is not None and not loader_done(loader)
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
    # Only the serving slot is behind the gateway; engines of the others wait by design.
    unreachable = unreachable_engines(gateway, current, namespace) if slot.serving else []
    overdue = next(
        (
            evidence
            for c, found in zip(current, current_problems, strict=True)
            if not found and (evidence := overdue_evidence(c, containers.log(c), read_at))
        ),
        None,
    )
    return SlotFacts(
        cache=cache_facts(
            slot,
            loader,
            current,
            cache_problems,
            namespace,
            deployment.loader_window_seconds,
            read_at,
        ),
        runtime=runtime_facts(slot, current, earlier, runtime_problems, unreachable, overdue),
        route=route_facts(deployment, slot, gateway, namespace, route_problems, unreachable),
        instances=loaders + tuple(engines),
        # A loader container, even a finished one: `pulumi up` creates the engines next.
        underway=bool(current or earlier or loader is not None),
    )
