"""Kubernetes objects -> slot and stack reports. Pure and deterministic.

Input: what the API returns, as plain camelCase dicts (Deployments, Pods, Jobs, Events,
Services, PersistentVolumeClaims) plus log tails of containers that crashed. Output: the
vocabulary of model.py. Nothing here talks to a cluster, so every rule is testable on
fixtures. Pods and Jobs: kubernetes_pod_facts.py; per slot here: the cache, the engine
Deployment's rollout, routing, and the statuses built from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from components.identity import (
    COMPONENT,
    DEPLOYMENT,
    ENGINE_COMPONENT,
    INSTANCE,
    SLOT,
    SLOT_ENDPOINT,
)
from components.status.kubernetes_objects import (
    ClusterSnapshot,
    LogRequest,
    Obj,
    SnapshotIndex,
    condition_of,
    dig,
    engine_status,
    is_terminating,
    labels_of,
    name_of,
    selects,
)
from components.status.kubernetes_pod_facts import (
    engine_instance,
    job_complete,
    loader_instances,
    loader_problems,
    logs_wanted,
    model_files_present,
)
from components.status.log_classifiers import shorten
from components.status.model import (
    Condition,
    ConditionType,
    DeploymentStatus,
    ErrorCode,
    ExpectedDeployment,
    ExpectedSlot,
    Problem,
    SlotReport,
    StackExpectation,
    StackReport,
    problem_status,
)
from components.status.report_rollup import (
    deployment_report,
    distinct_problems,
    ready_condition,
    stack_report,
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


def cache_condition(
    deployment: ExpectedDeployment,
    slot: ExpectedSlot,
    engine_pods: Sequence[Obj],
    cache_problems: tuple[Problem, ...],
    index: SnapshotIndex,
) -> Condition:
    ready = ConditionType.CACHE_READY
    if slot.loader_job is None:
        return Condition(ready, True, "NoDownload", "the model is read where it is; no cache")
    job = index.jobs.get(slot.loader_job)
    if job is not None and job_complete(job):
        return Condition(ready, True, "CacheWarm", f"loader Job {slot.loader_job} completed")
    if cache_problems:
        first = cache_problems[0]
        return Condition(ready, False, "CacheFailed", f"{first.code.value}: {first.message}")
    if job is None:
        if any(model_files_present(pod) for pod in engine_pods):
            return Condition(ready, True, "CacheWarm", "engine pods found the model in the cache")
        message = f"loader Job {slot.loader_job} does not exist yet"
        message += _claim_trouble(deployment.name, index)
        return Condition(ready, False, "WaitingForCache", shorten(message))
    active = int(dig(job, "status", "active") or 0)
    message = f"loader Job {slot.loader_job} is copying the model ({active} pod(s) active)"
    return Condition(
        ready, False, "CacheWarming", shorten(message + _claim_trouble(deployment.name, index))
    )


# -- the engine Deployment -----------------------------------------------------------------


def _spec_replicas(workload: Obj) -> int:
    replicas = dig(workload, "spec", "replicas")
    return 1 if replicas is None else int(replicas)  # the API's default


def desired_replicas(workload: Obj | None, slot: ExpectedSlot) -> int:
    """What the cluster aims for (an autoscaler may have changed it), else the plan's count."""
    return slot.replicas if workload is None else _spec_replicas(workload)


def rollout_complete(workload: Obj) -> bool:
    """Like `kubectl rollout status`: every replica updated and available, none left over."""
    status = workload.get("status") or {}
    desired = _spec_replicas(workload)
    generation = int(dig(workload, "metadata", "generation") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    return (
        int(status.get("observedGeneration") or 0) >= generation
        and updated >= desired
        and int(status.get("replicas") or 0) <= updated
        and int(status.get("availableReplicas") or 0) >= updated
    )


def rollout_problems(workload: Obj) -> tuple[Problem, ...]:
    """What the Deployment's own conditions say; pod problems are more specific."""
    source = f"deployment/{name_of(workload)}"
    problems = []
    progressing = condition_of(workload, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        deadline = dig(workload, "spec", "progressDeadlineSeconds")
        message = f"no rollout progress within {deadline}s: {progressing.get('message', '')}"
        problems.append(Problem(ErrorCode.STARTUP_TIMEOUT, shorten(message), source))
    failure = condition_of(workload, "ReplicaFailure")
    if failure and failure.get("status") == "True":
        message = str(failure.get("message") or failure.get("reason"))
        problems.append(Problem(ErrorCode.RUNTIME_ERROR, shorten(message), source))
    return tuple(problems)


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


def runtime_condition(
    workload: Obj | None, slot: ExpectedSlot, problems: tuple[Problem, ...], ready: int
) -> Condition:
    kind = ConditionType.RUNTIME_READY
    if workload is None:
        return Condition(
            kind, False, "CreatingRuntime", f"Deployment {slot.workload} does not exist yet"
        )
    desired = desired_replicas(workload, slot)
    if desired == 0:
        return Condition(kind, False, "Stopped", "scaled to zero replicas")
    if problems:
        first = problems[0]
        return Condition(kind, False, "RuntimeFailed", f"{first.code.value}: {first.message}")
    if rollout_complete(workload):
        return Condition(kind, True, "RuntimeReady", f"{ready}/{desired} replicas ready")
    updated = int(dig(workload, "status", "updatedReplicas") or 0)
    message = f"{ready}/{desired} replicas ready, {updated}/{desired} on the new version"
    return Condition(kind, False, "CreatingRuntime", message)


# -- routing -------------------------------------------------------------------------------


def routing_condition(
    deployment: ExpectedDeployment, slot: ExpectedSlot, workload: Obj | None, index: SnapshotIndex
) -> Condition:
    """The serving slot behind the stable Service; any other slot behind its own only."""
    kind = ConditionType.ROUTING_READY
    pod_labels = dig(workload, "spec", "template", "metadata", "labels") or {
        DEPLOYMENT: deployment.name,
        SLOT: slot.slot,
    }
    stable = index.services.get(deployment.stable_service)
    selector = (dig(stable, "spec", "selector") or {}) if stable else {}
    selected = selects(selector, pod_labels)
    name = deployment.stable_service
    if slot.serving:
        if stable is None:
            return Condition(kind, False, "ConfiguringRoute", f"Service {name} does not exist yet")
        if selected:
            return Condition(kind, True, "RouteReady", f"Service {name} selects this slot")
        other = selector.get(SLOT, "other pods")
        message = f"Service {name} still selects {other}; the stack file makes this slot serve"
        return Condition(kind, False, "Switching", message)
    if selected:
        message = f"Service {name} still sends traffic here; the stack file serves another slot"
        return Condition(kind, False, "Switching", message)
    for service in index.snapshot.services:
        labels = labels_of(service)
        if (
            labels.get(COMPONENT) == SLOT_ENDPOINT
            and labels.get(DEPLOYMENT) == deployment.name
            and labels.get(SLOT) == slot.slot
        ):
            message = f"not serving; reachable for tests through Service {name_of(service)}"
            return Condition(kind, True, "SlotRoute", message)
    return Condition(kind, False, "ConfiguringRoute", "the slot's Service does not exist yet")


# -- statuses ------------------------------------------------------------------------------


def slot_status(
    workload: Obj | None,
    slot: ExpectedSlot,
    conditions: Mapping[ConditionType, Condition],
    problems: tuple[Problem, ...],
    pods: Sequence[Obj],
    job: Obj | None,
) -> DeploymentStatus:
    failing = problem_status(problems)
    if workload is None:
        if failing is not None:
            return failing
        if job is not None and not conditions[ConditionType.CACHE_READY].status:
            return DeploymentStatus.DEPLOYING
        return DeploymentStatus.REQUESTED
    if desired_replicas(workload, slot) == 0:
        return DeploymentStatus.STOPPED
    if failing is not None:
        return failing
    if conditions[ConditionType.READY].status:
        return DeploymentStatus.DEPLOYED
    if conditions[ConditionType.RUNTIME_READY].status:
        return DeploymentStatus.DEPLOYING  # engines ready, route not there yet
    if not conditions[ConditionType.CACHE_READY].status:
        return DeploymentStatus.DEPLOYING
    if any(dig(engine_status(pod), "state", "running") for pod in pods if not is_terminating(pod)):
        return DeploymentStatus.INITIALIZING
    return DeploymentStatus.DEPLOYING


def derive_slot(
    deployment: ExpectedDeployment, slot: ExpectedSlot, index: SnapshotIndex
) -> SlotReport:
    workload = index.deployments.get(slot.workload)
    pods = slot_pods(workload, deployment.name, slot, index)
    job = index.jobs.get(slot.loader_job) if slot.loader_job else None
    job_problems = loader_problems(job, index) if job is not None else ()
    loaders = loader_instances(job, job_problems, index)
    engines = tuple(engine_instance(pod, index) for pod in pods)

    # A failed Job explains its pods; otherwise pods stuck before copying explain the cache.
    cache_problems = job_problems or tuple(p for i in loaders for p in i.problems)
    runtime_problems = tuple(p for i in engines for p in i.problems)
    if workload is not None and not runtime_problems:
        runtime_problems = rollout_problems(workload)
    ready = int(dig(workload, "status", "readyReplicas") or 0) if workload else 0

    cache = cache_condition(deployment, slot, pods, cache_problems, index)
    runtime = runtime_condition(workload, slot, runtime_problems, ready)
    routing = routing_condition(deployment, slot, workload, index)
    conditions = {
        c.type: c for c in (cache, runtime, routing, ready_condition(cache, runtime, routing))
    }
    problems = distinct_problems(cache_problems + runtime_problems)
    return SlotReport(
        slot=slot.slot,
        workload=slot.workload,
        serving=slot.serving,
        status=slot_status(workload, slot, conditions, problems, pods, job),
        desired_replicas=desired_replicas(workload, slot),
        ready_replicas=ready,
        conditions=tuple(conditions.values()),
        instances=loaders + engines,
        problems=problems,
    )


def derive_stack(expectation: StackExpectation, snapshot: ClusterSnapshot) -> StackReport:
    index = SnapshotIndex(snapshot)
    deployments = tuple(
        deployment_report(d, tuple(derive_slot(d, slot, index) for slot in d.slots))
        for d in expectation.deployments
    )
    # Objects left in the namespace (e.g. a retained cache) of deployments no longer declared.
    left = (
        snapshot.deployments,
        snapshot.pods,
        snapshot.jobs,
        snapshot.services,
        snapshot.claims,
    )
    labelled = (labels_of(obj).get(DEPLOYMENT) for objects in left for obj in objects)
    return stack_report(expectation, deployments, labelled)
