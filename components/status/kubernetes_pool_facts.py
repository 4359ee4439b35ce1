"""loadBalancer inference_aware: a slot's InferencePool and its endpoint picker -> what they
mean for the slot's route. Pure; kubernetes_facts.py folds this into the serving slot's
RouteFacts, and slot_rules.py decides from there as for any route.

What is relied on (gateway-api-inference-extension, `inference.networking.k8s.io/v1`; the
schema is in ../shared/schemas/crds-inference, see its SOURCES.md):
- `status.parents[]`: one entry per Gateway that routes to the pool (`parentRef`), with the
  conditions Accepted and ResolvedRefs (`observedGeneration` each). An empty list says no
  Gateway has taken the pool up: none routes to it yet, or no implementation runs.
- `spec.endpointPickerRef`: the picker's Service (modelstack names its Deployment the same,
  identity.endpoint_picker) and `failureMode`, FailClose where unset. modelstack sets
  FailOpen (catalog/endpoint_picker.py): while no picker answers, the Gateway still forwards
  requests, only without the picker's choice of pod.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from components.catalog import endpoint_picker as epp
from components.identity import DEPLOYMENT, SLOT
from components.status.kubernetes_objects import (
    Obj,
    SnapshotIndex,
    condition_of,
    container_statuses,
    dig,
    labels_of,
    name_of,
    refusing_parents,
    selects,
)
from components.status.kubernetes_pod_facts import pod_problems
from components.status.log_classifiers import EVIDENCE_LIMIT, MESSAGE_LIMIT, shorten
from components.status.model import ErrorCode, ExpectedDeployment, ExpectedSlot, Problem
from components.status.slot_rules import RouteFacts, RouteState

# The reader lists them: group, version and plural of the InferencePools.
POOL_RESOURCE = (*epp.POOL_API_VERSION.split("/"), "inferencepools")
# The API's default where a pool leaves failureMode unset.
FAIL_CLOSE = "FailClose"

# What a Gateway does with requests to the pool while no picker answers: in full for the
# problem, in short for the route's message.
_WITHOUT_PICKER = {
    "FailOpen": (
        "the Gateway still forwards requests, to pods it chooses without the picker's scores",
        "requests go on without its choice of pod",
    ),
    FAIL_CLOSE: (
        "the Gateway fails the requests it would send to the pool",
        "requests to the pool fail",
    ),
}
_REFUSALS = {
    "Accepted": "does not accept the pool",
    "ResolvedRefs": "cannot resolve the pool's references (its endpoint picker's Service)",
}
# Deployment controller reasons of a rollout under way (a first start, a new template).
_ROLLING_OUT = frozenset({"NewReplicaSetCreated", "FoundNewReplicaSet", "ReplicaSetUpdated"})


@dataclass(frozen=True)
class PickerState:
    """What a pool's endpoint picker does for the route."""

    # In a few words, for the route's message ("endpoint picker x 1/1 available").
    message: str
    # Not there yet, or a rollout still within its window with nothing failing.
    coming_up: bool = False
    # It should pick and no replica can: why, and where to look.
    problems: tuple[Problem, ...] = ()


def slot_pool(deployment: str, slot: str, index: SnapshotIndex) -> Obj | None:
    """The slot's InferencePool, by the labels modelstack gives it."""
    for pool in index.snapshot.inference_pools:
        labels = labels_of(pool)
        if labels.get(DEPLOYMENT) == deployment and labels.get(SLOT) == slot:
            return pool
    return None


def pool_route(
    route: RouteFacts,
    deployment: ExpectedDeployment,
    slot: ExpectedSlot,
    engines_desired: int,
    index: SnapshotIndex,
) -> RouteFacts:
    """The serving slot's route through its InferencePool: what the Gateways say of the pool
    and whether its picker runs, added to what the Service and HTTPRoute say. A route not in
    place yet is left as it is, and so is a slot without a pool (another algorithm)."""
    if route.state not in (RouteState.SERVING, RouteState.INCOMPLETE):
        return route
    pool = slot_pool(deployment.name, slot.slot, index)
    if pool is None:
        return route
    refusals = pool_refusals(pool)
    picker = picker_state(pool, engines_desired, index)
    said = refusals[0].message if refusals else pool_note(pool)
    message = shorten(f"{route.message}; {said}; {picker.message}")
    problems = route.problems + refusals + picker.problems
    if problems:
        return RouteFacts(RouteState.INCOMPLETE, message, problems)
    if picker.coming_up:
        return RouteFacts(RouteState.CONFIGURING, message)
    return RouteFacts(RouteState.SERVING, message)


def pool_refusals(pool: Obj) -> tuple[Problem, ...]:
    """Gateways that set Accepted or ResolvedRefs False on the pool as it is now."""
    name = name_of(pool)
    problems = []
    for gateway, condition in refusing_parents(pool):
        message = (
            f"InferencePool {name}: Gateway {gateway} {_REFUSALS[str(condition.get('type'))]} "
            f"({condition.get('reason')}): {condition.get('message') or 'no message'}"
        )
        problems.append(
            Problem(ErrorCode.ROUTING_FAILURE, shorten(message), f"inferencepool/{name}")
        )
    return tuple(problems)


def pool_note(pool: Obj) -> str:
    """The Gateways' word on a pool none refuses."""
    name = name_of(pool)
    parents = dig(pool, "status", "parents") or []
    if not parents:
        return f"InferencePool {name}: no Gateway has reported on the pool yet"
    namespace = dig(pool, "metadata", "namespace")
    accepting = []
    for parent in parents:
        accepted = next(
            (c for c in parent.get("conditions") or [] if c.get("type") == "Accepted"), None
        )
        if accepted is not None and accepted.get("status") == "True":
            ref = parent.get("parentRef") or {}
            accepting.append(f"{ref.get('namespace') or namespace}/{ref.get('name')}")
    if accepting:
        return f"InferencePool {name} accepted by Gateway {', '.join(sorted(accepting))}"
    return f"InferencePool {name}: no Gateway has accepted the pool yet"


def picker_state(pool: Obj, engines_desired: int, index: SnapshotIndex) -> PickerState:
    """The pool's picker: available, coming up, or down (a problem naming it, what its pods
    show, what the pool's failureMode does meanwhile, and the commands that say more)."""
    ref = dig(pool, "spec", "endpointPickerRef") or {}
    picker = str(ref.get("name") or "")
    workload = index.deployments.get(picker)
    if workload is None:
        return PickerState(f"endpoint picker Deployment {picker} does not exist yet", True)
    replicas = dig(workload, "spec", "replicas")
    desired = 1 if replicas is None else int(replicas)  # the API's default
    available = int(dig(workload, "status", "availableReplicas") or 0)
    if available > 0:
        # With leader election only the leader is ready: one available replica picks.
        return PickerState(f"endpoint picker {picker} {available}/{desired} available")
    if desired == 0 and engines_desired == 0:
        return PickerState(f"endpoint picker {picker} scaled to zero with the engines")
    pods = picker_pods(workload, index)
    failures = tuple(problem for pod in pods for problem in pod_problems(pod, index))
    refused = condition_of(workload, "ReplicaFailure")
    refused = refused if refused and refused.get("status") == "True" else None
    evidence = _evidence(desired, pods, failures, refused)
    if not failures and refused is None and desired > 0 and _rolling_out(workload):
        return PickerState(f"endpoint picker {picker} is starting ({evidence})", True)
    mode = str(ref.get("failureMode") or FAIL_CLOSE)
    effect, short_effect = _WITHOUT_PICKER.get(mode, _WITHOUT_PICKER[FAIL_CLOSE])
    namespace = dig(workload, "metadata", "namespace") or dig(pool, "metadata", "namespace")
    message = (
        f"endpoint picker {picker} of InferencePool {name_of(pool)} has no available replica "
        f"(0/{desired}): {evidence}; failureMode {mode}: {effect}; "
        f"`kubectl describe deployment {picker} -n {namespace}` and "
        f"`kubectl logs deploy/{picker} -n {namespace}` say why"
    )
    # Longer than most messages: the two commands are the advice that names this picker.
    problem = Problem(
        ErrorCode.ROUTING_FAILURE, shorten(message, 2 * MESSAGE_LIMIT), f"deployment/{picker}"
    )
    short = f"endpoint picker {picker} has no available replica ({mode}: {short_effect})"
    return PickerState(short, problems=(problem,))


def picker_pods(workload: Obj, index: SnapshotIndex) -> list[Obj]:
    """The picker Deployment's pods that are not finished."""
    selector = dig(workload, "spec", "selector", "matchLabels") or {}
    return sorted(
        (
            pod
            for pod in index.snapshot.pods
            if selects(selector, labels_of(pod))
            and dig(pod, "status", "phase") not in ("Succeeded", "Failed")
        ),
        key=name_of,
    )


def _evidence(
    desired: int, pods: Sequence[Obj], failures: Sequence[Problem], refused: Obj | None
) -> str:
    """Why no replica is available, most telling first: what fails in a pod, what the
    Deployment controller could not create, else where the pods stand."""
    if failures:
        first = failures[0]
        return f"{first.source}: {first.code.value} {shorten(first.message, EVIDENCE_LIMIT)}"
    if refused is not None:
        said = f"{refused.get('reason')}: {refused.get('message')}"
        return f"{refused.get('type')} {shorten(said, EVIDENCE_LIMIT)}"
    if desired == 0:
        return "scaled to zero while the engines run"
    if not pods:
        return "no pods"
    return f"pod/{name_of(pods[0])} {_pod_state(pods[0])}"


def _pod_state(pod: Obj) -> str:
    if dig(pod, "spec", "nodeName") is None:
        return "waits for a node"
    for status in container_statuses(pod):
        waiting = dig(status, "state", "waiting", "reason")
        if waiting:
            return f"is {waiting}"
    return f"runs, not ready: its gRPC health check on port {epp.HEALTH_PORT} does not pass"


def _rolling_out(workload: Obj) -> bool:
    """A first start or a new version under way, within the Deployment's progress deadline
    (past it, the controller sets Progressing False: ProgressDeadlineExceeded)."""
    progressing = condition_of(workload, "Progressing")
    if progressing is None:
        return True  # just created: the controller has not written a status yet
    return progressing.get("status") == "True" and progressing.get("reason") in _ROLLING_OUT
