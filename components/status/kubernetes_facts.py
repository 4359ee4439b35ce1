"""Kubernetes objects -> the facts of each slot. Pure and deterministic.

Input: what the API returns, as plain camelCase dicts (Deployments, Pods, Jobs, Events,
Services, PersistentVolumeClaims) plus log tails of containers that crashed. Output: per
slot, what Kubernetes shows of its cache, engine Deployment and routing (`SlotFacts`);
slot_rules.py decides the conditions and statuses from them, as for every target. Nothing
here talks to a cluster, so every rule is testable on fixtures. Pods and Jobs:
kubernetes_pod_facts.py. A progressive deployment's slot is served by Flagger's primary
copy, beside its candidate while an analysis runs; the Canary: kubernetes_canary_facts.py.
An inference_aware slot's InferencePool and endpoint picker: kubernetes_pool_facts.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from components.identity import (
    COMPONENT,
    DEPLOYMENT,
    ENGINE_COMPONENT,
    INSTANCE,
    SLOT,
    SLOT_ENDPOINT,
)
from components.status.kubernetes_canary_facts import canary_facts, canary_route, candidate_counts
from components.status.kubernetes_objects import (
    ENGINE_CONTAINER,
    ClusterSnapshot,
    LogRequest,
    Obj,
    SnapshotIndex,
    condition_of,
    dig,
    engine_status,
    event_time,
    is_terminating,
    labels_of,
    name_of,
    past_progress_deadline,
    refusing_parents,
    selects,
    serving_pod_labels,
    timestamp,
)
from components.status.kubernetes_pod_facts import (
    engine_instance,
    job_complete,
    job_failed,
    loader_instances,
    loader_problems,
    logs_wanted,
    model_files_present,
)
from components.status.kubernetes_pool_facts import pool_route
from components.status.log_classifiers import EVIDENCE_LIMIT, shorten
from components.status.model import (
    ErrorCode,
    ExpectedDeployment,
    ExpectedSlot,
    Instance,
    Problem,
    StackExpectation,
    StackReport,
)
from components.status.progressive_canary import ExpectedCanary
from components.status.report_rollup import report_from_facts
from components.status.slot_rules import (
    CacheFacts,
    CanaryFacts,
    LoaderState,
    RouteFacts,
    RouteState,
    RuntimeFacts,
    SlotFacts,
    loader_overdue,
)

# A reader needs these four: what to fetch (`logs_wanted`), then `derive_stack` over it.
__all__ = ["ClusterSnapshot", "LogRequest", "derive_stack", "logs_wanted"]


def _claim_trouble(deployment: str, index: SnapshotIndex) -> str:
    """Why the cache claim cannot be provisioned, when Kubernetes said so."""
    for claim in index.snapshot.claims:
        if labels_of(claim).get(DEPLOYMENT) != deployment:
            continue
        if dig(claim, "status", "phase") == "Bound":
            continue
        failures = [
            e
            for e in index.events_for("PersistentVolumeClaim", name_of(claim))
            if e.get("reason") == "ProvisioningFailed"
        ]
        if failures:
            return f"; claim {name_of(claim)}: {failures[-1].get('message')}"
    return ""


def cache_facts(
    deployment: ExpectedDeployment,
    slot: ExpectedSlot,
    engine_pods: Sequence[Obj],
    problems: tuple[Problem, ...],
    index: SnapshotIndex,
) -> CacheFacts:
    if slot.loader_job is None:
        return CacheFacts(None)
    what = f"loader Job {slot.loader_job}"
    job = index.jobs.get(slot.loader_job)
    if job is not None and job_complete(job):
        return CacheFacts(LoaderState.COMPLETE, f"{what} completed", problems)
    if job is not None and job_failed(job):
        return CacheFacts(LoaderState.FAILED, f"{what} failed", problems)
    trouble = _claim_trouble(deployment.name, index)
    if job is None:
        found = any(model_files_present(pod) for pod in engine_pods)
        return CacheFacts(
            LoaderState.ABSENT,
            shorten(f"{what} does not exist yet{trouble}"),
            problems,
            found_by_engines="engine pods found the model in the cache" if found else None,
        )
    active = int(dig(job, "status", "active") or 0)
    message = f"{what} is copying the model ({active} pod(s) active){trouble}"
    started = dig(job, "status", "startTime")
    read_at = index.snapshot.read_at
    copying = (read_at - timestamp(started)).total_seconds() if started and read_at else None
    overdue = loader_overdue(what, copying, deployment.loader_window_seconds)
    return CacheFacts(LoaderState.COPYING, shorten(message), problems, overdue=overdue)


# -- the engine Deployment -----------------------------------------------------------------


def _spec_replicas(workload: Obj) -> int:
    replicas = dig(workload, "spec", "replicas")
    return 1 if replicas is None else int(replicas)  # the API's default


def desired_replicas(workload: Obj | None, slot: ExpectedSlot) -> int:
    """What the cluster aims for (an autoscaler may have changed it), else the plan's count."""
    return slot.replicas if workload is None else _spec_replicas(workload)


def one_version(workload: Obj) -> bool:
    """Every replica runs the current template: its ready ones are the current version's."""
    status = workload.get("status") or {}
    generation = int(dig(workload, "metadata", "generation") or 0)
    seen = int(status.get("observedGeneration") or 0) >= generation
    return seen and int(status.get("replicas") or 0) <= int(status.get("updatedReplicas") or 0)


def rollout_complete(workload: Obj) -> bool:
    """Like `kubectl rollout status`: every replica updated and available, none left over."""
    status = workload.get("status") or {}
    updated = int(status.get("updatedReplicas") or 0)
    return (
        one_version(workload)
        and updated >= _spec_replicas(workload)
        # A LeaderWorkerSet counts ready groups only (no availableReplicas in its status).
        and int(status.get("availableReplicas", status.get("readyReplicas")) or 0) >= updated
    )


def rollout_problems(workload: Obj) -> tuple[Problem, ...]:
    """What the Deployment's own conditions say; pod problems are more specific. A rollout
    past its deadline names no cause by itself: that is `overdue_evidence`."""
    failure = condition_of(workload, "ReplicaFailure")
    if failure and failure.get("status") == "True":
        message = str(failure.get("message") or failure.get("reason"))
        source = f"deployment/{name_of(workload)}"
        return (Problem(ErrorCode.RUNTIME_ERROR, shorten(message), source),)
    return ()


def overdue_evidence(workload: Obj, pods: Sequence[Obj], index: SnapshotIndex) -> str | None:
    """Past the Deployment's progressDeadlineSeconds (the plan's startup window plus a
    margin): the window, the newest event of its pods, and the engine's last log line."""
    if not past_progress_deadline(workload):
        return None
    deadline = dig(workload, "spec", "progressDeadlineSeconds")
    parts = [f"not ready within its {deadline}s window (progressDeadlineSeconds)"]
    events = [(event, pod) for pod in pods for event in index.events_for("Pod", name_of(pod))]
    if events:
        event, pod = max(events, key=lambda found: event_time(found[0]))
        said = shorten(f"{event.get('reason')}: {event.get('message')}", EVIDENCE_LIMIT)
        parts.append(f"last event pod/{name_of(pod)} {said}")
    for pod in pods:
        lines = [line for line in index.log(pod, ENGINE_CONTAINER).splitlines() if line.strip()]
        if lines:
            parts.append(f"log: {shorten(lines[-1], EVIDENCE_LIMIT)}")
            break
    return shorten("; ".join(parts))


def slot_pods(
    workload: Obj | None, deployment: str, slot: ExpectedSlot, index: SnapshotIndex
) -> list[Obj]:
    """The slot's engine pods: what its Deployment selects (by labels, when it is gone)."""
    selector = dig(workload, "spec", "selector", "matchLabels") if workload else None
    pods = []
    for pod in index.snapshot.pods:
        labels = labels_of(pod)
        if labels.get(COMPONENT) != ENGINE_COMPONENT:
            continue
        if selector:
            matches = selects(selector, labels)
        else:
            matches = (
                labels.get(DEPLOYMENT) == deployment
                and labels.get(SLOT) == slot.slot
                and labels.get(INSTANCE, slot.workload) == slot.workload
            )
        if matches and dig(pod, "status", "phase") not in ("Succeeded", "Failed"):
            pods.append(pod)
    return sorted(pods, key=name_of)


def runtime_facts(
    workload: Obj | None,
    slot: ExpectedSlot,
    problems: tuple[Problem, ...],
    pods: Sequence[Obj],
    overdue: str | None = None,
) -> RuntimeFacts:
    desired = desired_replicas(workload, slot)
    if workload is None:
        message = f"Deployment {slot.workload} does not exist yet"
        return RuntimeFacts(desired, 0, message, problems, missing=True)
    ready = int(dig(workload, "status", "readyReplicas") or 0)
    complete = rollout_complete(workload)
    if desired == 0:
        message = "scaled to zero replicas"
    elif complete:
        message = f"{ready}/{desired} replicas ready"
    else:
        updated = int(dig(workload, "status", "updatedReplicas") or 0)
        message = f"{ready}/{desired} replicas ready, {updated}/{desired} on the new version"
    loading = any(
        dig(engine_status(pod), "state", "running") for pod in pods if not is_terminating(pod)
    )
    return RuntimeFacts(
        desired,
        ready,
        message,
        problems,
        stopped=desired == 0,
        complete=complete,
        loading=loading,
        answering=ready if one_version(workload) else 0,
        overdue=None if complete else overdue,
    )


def serving_copy_runtime(
    primary: Obj,
    candidate: Obj | None,
    slot: ExpectedSlot,
    problems: tuple[Problem, ...],
    pods: Sequence[Obj],
    overdue: str | None,
) -> RuntimeFacts:
    """Flagger's primary serves: its ready replicas against the stack's count; while an
    analysis runs, the candidate's replicas count as well."""
    workloads = [primary] if candidate is None else [primary, candidate]
    serving = _ready_replicas(primary)
    message = f"{serving}/{slot.replicas} replicas ready in {name_of(primary)} (Flagger's copy)"
    desired = slot.replicas
    if candidate is not None:
        desired += _spec_replicas(candidate)
        trying = f"{_ready_replicas(candidate)}/{_spec_replicas(candidate)}"
        message += f"; candidate {name_of(candidate)} {trying} ready"
    complete = serving >= slot.replicas and all(rollout_complete(w) for w in workloads)
    loading = any(
        dig(engine_status(pod), "state", "running") for pod in pods if not is_terminating(pod)
    )
    return RuntimeFacts(
        desired,
        sum(_ready_replicas(w) for w in workloads),
        message,
        problems,
        complete=complete,
        loading=loading,
        answering=sum(_ready_replicas(w) for w in workloads if one_version(w)),
        overdue=None if complete else overdue,
    )


def _ready_replicas(workload: Obj) -> int:
    return int(dig(workload, "status", "readyReplicas") or 0)


# -- routing -------------------------------------------------------------------------------


def route_facts(
    deployment: ExpectedDeployment, slot: ExpectedSlot, workload: Obj | None, index: SnapshotIndex
) -> RouteFacts:
    """The serving slot behind the stable Service (and, inference_aware, its InferencePool
    and endpoint picker); any other slot behind its own only."""
    pod_labels = serving_pod_labels(workload) or {
        DEPLOYMENT: deployment.name,
        SLOT: slot.slot,
    }
    stable = index.services.get(deployment.stable_service)
    selector = (dig(stable, "spec", "selector") or {}) if stable else {}
    selected = selects(selector, pod_labels)
    name = deployment.stable_service
    if slot.serving:
        if stable is None:
            return RouteFacts(RouteState.CONFIGURING, f"Service {name} does not exist yet")
        if selected:
            refusals = gateway_refusals(deployment, index)
            if refusals:
                message = f"Service {name} selects this slot; {refusals[0].message}"
                route = RouteFacts(RouteState.INCOMPLETE, shorten(message), refusals)
            else:
                route = RouteFacts(RouteState.SERVING, f"Service {name} selects this slot")
            # inference_aware: the Gateway sends through the slot's InferencePool and picker.
            engines = desired_replicas(workload, slot)
            return pool_route(route, deployment, slot, engines, index)
        other = selector.get(SLOT, "other pods")
        message = f"Service {name} still selects {other}; the stack file makes this slot serve"
        return RouteFacts(RouteState.SWITCHING, message)
    if selected:
        message = f"Service {name} still sends traffic here; the stack file serves another slot"
        return RouteFacts(RouteState.SWITCHING, message)
    for service in index.snapshot.services:
        labels = labels_of(service)
        if (
            labels.get(COMPONENT) == SLOT_ENDPOINT
            and labels.get(DEPLOYMENT) == deployment.name
            and labels.get(SLOT) == slot.slot
        ):
            message = f"not serving; reachable for tests through Service {name_of(service)}"
            return RouteFacts(RouteState.SLOT_ROUTE, message)
    return RouteFacts(RouteState.CONFIGURING, "the slot's Service does not exist yet")


_REFUSALS = {
    "Accepted": "does not accept the route",
    "ResolvedRefs": "cannot resolve some of the route's backends",
}


def gateway_refusals(deployment: ExpectedDeployment, index: SnapshotIndex) -> tuple[Problem, ...]:
    """What the Gateways say they cannot do with the deployment's HTTPRoutes (status.parents
    conditions Accepted or ResolvedRefs False, for the route as it is now). A route without
    status yet says nothing: the Gateway's controller has not got to it."""
    problems = []
    for route in index.snapshot.routes:
        if labels_of(route).get(DEPLOYMENT) != deployment.name:
            continue
        for gateway, condition in refusing_parents(route):
            message = (
                f"Gateway {gateway} {_REFUSALS[str(condition.get('type'))]} "
                f"({condition.get('reason')}): {condition.get('message') or 'no message'}"
            )
            source = f"httproute/{name_of(route)}"
            problems.append(Problem(ErrorCode.ROUTING_FAILURE, shorten(message), source))
    return tuple(problems)


# -- the slot ------------------------------------------------------------------------------


def slot_facts(
    deployment: ExpectedDeployment, slot: ExpectedSlot, index: SnapshotIndex
) -> SlotFacts:
    if deployment.canary is not None:
        return progressive_slot_facts(deployment, deployment.canary, slot, index)
    workload = index.deployments.get(slot.workload)
    pods = slot_pods(workload, deployment.name, slot, index)
    engines = tuple(engine_instance(pod, index) for pod in pods)
    workloads = [workload] if workload is not None else []
    overdue = overdue_evidence(workload, pods, index) if workload is not None else None
    return assembled_facts(
        deployment,
        slot,
        index,
        pods,
        engines,
        runtime=runtime_facts(workload, slot, engine_problems(engines, workloads), pods, overdue),
        route=route_facts(deployment, slot, workload, index),
        found=bool(workloads),
    )


def progressive_slot_facts(
    deployment: ExpectedDeployment,
    expected: ExpectedCanary,
    slot: ExpectedSlot,
    index: SnapshotIndex,
) -> SlotFacts:
    """Flagger's primary serves the slot. The target (the candidate) belongs to it while an
    analysis runs, and before Flagger has made a primary (it is all there is then)."""
    canary = index.canaries.get(expected.name)
    found = canary_facts(expected, canary, index)
    target = index.deployments.get(slot.workload)
    primary = index.deployments.get(expected.primary)
    with_candidate = primary is None or candidate_counts(found.report.phase)
    candidate = target if with_candidate else None
    workloads = [w for w in (primary, candidate) if w is not None]
    pods_of = {name_of(w): slot_pods(w, deployment.name, slot, index) for w in workloads}
    pods = [pod for listed in pods_of.values() for pod in listed]
    engines = tuple(engine_instance(pod, index) for pod in pods)
    problems = engine_problems(engines, workloads)
    overdue = next(
        (e for w in workloads if (e := overdue_evidence(w, pods_of[name_of(w)], index))), None
    )
    if primary is None:
        runtime = runtime_facts(target, slot, problems, pods, overdue)
        if target is not None:
            made = f"in {slot.workload}; Flagger has not made {expected.primary} yet"
            runtime = replace(runtime, message=f"{runtime.message} {made}")
        if runtime.stopped:
            # Flagger keeps a primary running: a target at zero without one is not stopped.
            runtime = replace(runtime, desired=slot.replicas, stopped=False, complete=False)
    else:
        runtime = serving_copy_runtime(primary, candidate, slot, problems, pods, overdue)
    return assembled_facts(
        deployment,
        slot,
        index,
        pods,
        engines,
        runtime=runtime,
        route=canary_route(expected, canary, found.report),
        found=bool(workloads) or target is not None,
        canary=found,
    )


def engine_problems(engines: Sequence[Instance], workloads: Sequence[Obj]) -> tuple[Problem, ...]:
    """What the engine pods show; without any, what their Deployments' conditions say."""
    problems = tuple(p for i in engines for p in i.problems)
    for workload in workloads:
        problems = problems or rollout_problems(workload)
    return problems


def assembled_facts(
    deployment: ExpectedDeployment,
    slot: ExpectedSlot,
    index: SnapshotIndex,
    pods: Sequence[Obj],
    engines: tuple[Instance, ...],
    *,
    runtime: RuntimeFacts,
    route: RouteFacts,
    found: bool,
    canary: CanaryFacts | None = None,
) -> SlotFacts:
    """A slot's facts around its engines: the cache loader's, and what is under way."""
    job = index.jobs.get(slot.loader_job) if slot.loader_job else None
    job_problems = loader_problems(job, index) if job is not None else ()
    loaders = loader_instances(job, job_problems, index)
    # A failed Job explains its pods; otherwise pods stuck before copying explain the cache.
    cache_problems = job_problems or tuple(p for i in loaders for p in i.problems)
    # A Job still at work is under way; a finished one without its Deployment is not.
    loader_at_work = job is not None and not job_complete(job)
    return SlotFacts(
        cache=cache_facts(deployment, slot, pods, cache_problems, index),
        runtime=runtime,
        route=route,
        instances=loaders + engines,
        underway=found or loader_at_work,
        canary=canary,
    )


def derive_stack(expectation: StackExpectation, snapshot: ClusterSnapshot) -> StackReport:
    index = SnapshotIndex(snapshot)
    # Objects left in the namespace (e.g. a retained cache) of deployments no longer declared.
    left = (
        snapshot.deployments,
        snapshot.pods,
        snapshot.jobs,
        snapshot.services,
        snapshot.claims,
        snapshot.routes,
        snapshot.leader_worker_sets,
        snapshot.canaries,
        snapshot.inference_pools,
    )
    labelled = (labels_of(obj).get(DEPLOYMENT) for objects in left for obj in objects)
    return report_from_facts(
        expectation, lambda deployment, slot: slot_facts(deployment, slot, index), labelled
    )
