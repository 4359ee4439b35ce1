"""A Kubernetes status snapshot and small readers of its API objects (plain camelCase dicts).

What a reader fetched at one moment (`ClusterSnapshot`), lookups over it (`SnapshotIndex`) and
the labels and names status reads; nothing here talks to a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from components.catalog.multi_node import LEADER_INDEX, WORKER_INDEX_LABEL
from components.kubernetes.manifests.leader_worker_set import KIND as LWS_KIND
from components.kubernetes.manifests.pod import CONTAINER as ENGINE_CONTAINER
from components.nested_values import dig

Obj = Mapping[str, Any]

# The init container of engine pods that waits for the cache (manifests/pod.py).
WAIT_CONTAINER = "wait-for-model"

IMAGE_PULL_REASONS = frozenset(
    {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"}
)
CREATE_FAILURE_REASONS = frozenset(
    {"CreateContainerConfigError", "CreateContainerError", "RunContainerError"}
)
# Events of cluster-autoscaler and Karpenter: a node for the pod is on its way.
SCALE_UP_REASONS = frozenset({"TriggeredScaleUp", "Nominated"})


@dataclass(frozen=True)
class ClusterSnapshot:
    """Everything a reader fetched at one moment, as the API returned it."""

    deployments: Sequence[Obj] = ()
    pods: Sequence[Obj] = ()
    jobs: Sequence[Obj] = ()
    events: Sequence[Obj] = ()
    services: Sequence[Obj] = ()
    claims: Sequence[Obj] = ()
    # Gateway API HTTPRoutes (none where the cluster has no Gateway API).
    routes: Sequence[Obj] = ()
    # The LeaderWorkerSets of gpu.nodes slots (none where the cluster has no LWS CRD).
    leader_worker_sets: Sequence[Obj] = ()
    # Flagger Canaries of progressive deployments (none where the cluster has no Flagger
    # CRD). Their primary Deployments are among `deployments`.
    canaries: Sequence[Obj] = ()
    # InferencePools of inference_aware slots (none where the cluster has no InferencePool
    # CRD). Their endpoint pickers' Deployments and pods carry the stack's labels: they are
    # among `deployments` and `pods`.
    inference_pools: Sequence[Obj] = ()
    # Log tails by log_key(pod, container).
    logs: Mapping[str, str] = field(default_factory=dict)
    # When it was read (None: fixtures without a clock; nothing is then past a window).
    read_at: datetime | None = None


@dataclass(frozen=True)
class LogRequest:
    pod: str
    container: str
    # The crashed run's log, not the one running (or waiting) now.
    previous: bool

    @property
    def key(self) -> str:
        return log_key(self.pod, self.container)


def log_key(pod: str, container: str) -> str:
    return f"{pod}/{container}"


# -- small readers of API objects -----------------------------------------------------------


def name_of(obj: Obj) -> str:
    return str(dig(obj, "metadata", "name") or "")


def labels_of(obj: Obj) -> Mapping[str, str]:
    return dig(obj, "metadata", "labels") or {}


def timestamp(text: str | None) -> datetime:
    if not text:
        return datetime.min.replace(tzinfo=UTC)
    return datetime.fromisoformat(text)


def event_time(event: Obj) -> datetime:
    return timestamp(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or dig(event, "metadata", "creationTimestamp")
    )


def condition_of(obj: Obj, kind: str) -> Obj | None:
    for condition in dig(obj, "status", "conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def past_progress_deadline(workload: Obj) -> bool:
    """The Deployment controller found no progress within progressDeadlineSeconds."""
    progressing = condition_of(workload, "Progressing")
    return progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded"


def serving_pod_labels(workload: Obj | None) -> Mapping[str, str] | None:
    """The labels of a workload's pods that Services select: a LeaderWorkerSet's leaders,
    which LWS also labels with worker index "0" (catalog/multi_node.py)."""
    if workload is None:
        return None
    if workload.get("kind") != LWS_KIND:
        return dig(workload, "spec", "template", "metadata", "labels")
    templates = dig(workload, "spec", "leaderWorkerTemplate") or {}
    template = templates.get("leaderTemplate") or templates.get("workerTemplate") or {}
    return {**(dig(template, "metadata", "labels") or {}), WORKER_INDEX_LABEL: LEADER_INDEX}


# Gateway API parent conditions whose False says a Gateway cannot route as asked.
REFUSING_CONDITIONS = frozenset({"Accepted", "ResolvedRefs"})


def refusing_parents(obj: Obj) -> list[tuple[str, Obj]]:
    """The Gateways that refuse an HTTPRoute or an InferencePool as it is now, each as
    ("namespace/name", condition): `status.parents` entries with Accepted or ResolvedRefs
    False. A condition about an older generation is left out: the controller has not seen
    the change yet."""
    generation = int(dig(obj, "metadata", "generation") or 0)
    namespace = dig(obj, "metadata", "namespace")
    refusing = []
    for parent in dig(obj, "status", "parents") or []:
        ref = parent.get("parentRef") or {}
        gateway = f"{ref.get('namespace') or namespace}/{ref.get('name')}"
        for condition in parent.get("conditions") or []:
            seen = int(condition.get("observedGeneration") or generation)
            if (
                condition.get("type") in REFUSING_CONDITIONS
                and condition.get("status") == "False"
                and seen >= generation
            ):
                refusing.append((gateway, condition))
    return refusing


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def container_statuses(pod: Obj) -> list[Obj]:
    status = pod.get("status") or {}
    return [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]


def engine_status(pod: Obj) -> Obj | None:
    for status in dig(pod, "status", "containerStatuses") or []:
        if status.get("name") == ENGINE_CONTAINER:
            return status
    return None


def restarts(pod: Obj) -> int:
    return sum(int(status.get("restartCount") or 0) for status in container_statuses(pod))


def is_terminating(pod: Obj) -> bool:
    return dig(pod, "metadata", "deletionTimestamp") is not None


class SnapshotIndex:
    """Lookups over one snapshot, built once per derivation."""

    def __init__(self, snapshot: ClusterSnapshot) -> None:
        self.snapshot = snapshot
        # A slot's workload: its Deployment, or its LeaderWorkerSet (counted in groups).
        workloads = (*snapshot.deployments, *snapshot.leader_worker_sets)
        self.deployments = {name_of(d): d for d in workloads}
        self.canaries = {name_of(c): c for c in snapshot.canaries}
        self.jobs = {name_of(j): j for j in snapshot.jobs}
        self.services = {name_of(s): s for s in snapshot.services}
        self.events: dict[tuple[str, str], list[Obj]] = {}
        for event in snapshot.events:
            involved = event.get("involvedObject") or {}
            key = (str(involved.get("kind")), str(involved.get("name")))
            self.events.setdefault(key, []).append(event)
        for events in self.events.values():
            events.sort(key=lambda e: (event_time(e), name_of(e)))

    def events_for(self, kind: str, name: str, container: str | None = None) -> list[Obj]:
        """Events about an object, oldest first; with `container`, pod-wide ones too."""
        events = self.events.get((kind, name), [])
        if container is None:
            return events
        field_path = f"spec.containers{{{container}}}"
        own = (field_path, f"spec.initContainers{{{container}}}", None)
        return [e for e in events if dig(e, "involvedObject", "fieldPath") in own]

    def log(self, pod: Obj, container: str) -> str:
        return self.snapshot.logs.get(log_key(name_of(pod), container), "")


# -- which logs a reader should fetch -------------------------------------------------------
