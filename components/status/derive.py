"""Kubernetes objects -> statuses, conditions and error codes. Pure and deterministic.

Input: what the API returns, as plain camelCase dicts (Deployments, Pods, Jobs, Events,
Services, PersistentVolumeClaims) plus log tails of containers that crashed. Output: the
vocabulary of model.py. Nothing here talks to a cluster, so every rule is testable on
fixtures. One function per concern: scheduling, image pulls, crashes, logs, the cache
loader, rollout progress, routing, and the statuses built from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from components.kubernetes.manifests.labels import DEPLOYMENT, SLOT
from components.kubernetes.manifests.pod import CONTAINER as ENGINE_CONTAINER
from components.status.model import (
    Condition,
    ConditionType,
    DeploymentReport,
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

Obj = Mapping[str, Any]

COMPONENT = "app.kubernetes.io/component"
INSTANCE = "app.kubernetes.io/instance"
ENGINE_COMPONENT = "inference-engine"
SLOT_SERVICE_COMPONENT = "slot-endpoint"
# The init container of engine pods that waits for the cache (manifests/pod.py).
WAIT_CONTAINER = "wait-for-model"
JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")

IMAGE_PULL_REASONS = frozenset(
    {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"}
)
CREATE_FAILURE_REASONS = frozenset(
    {"CreateContainerConfigError", "CreateContainerError", "RunContainerError"}
)
# Events of cluster-autoscaler and Karpenter: a node for the pod is on its way.
SCALE_UP_REASONS = frozenset({"TriggeredScaleUp", "Nominated"})
MESSAGE_LIMIT = 300

# The GPU runtime or the node's GPU setup failed (also in container-creation messages).
GPU_FAILURE = re.compile(
    r"CUDA error|no CUDA-capable device|CUDA driver version is insufficient"
    r"|No CUDA GPUs are available|Failed to initialize NVML|NCCL error|HIP error"
    r"|nvidia-container-cli",
    re.IGNORECASE,
)
# Log lines that name a cause, most specific first: the first kind found wins, and the
# newest matching line is the evidence. GPU out-of-memory before CUDA errors: the CUDA
# runtime reports it as "CUDA error: out of memory".
ENGINE_LOG_SIGNATURES: tuple[tuple[ErrorCode, str, re.Pattern[str]], ...] = (
    (
        ErrorCode.OOM,
        "out of GPU memory",
        re.compile(
            r"out of memory|OutOfMemoryError|No available memory for the cache blocks"
            r"|stored in KV cache|cudaMalloc failed|failed to allocate .*buffer",
            re.IGNORECASE,
        ),
    ),
    (ErrorCode.CUDA_ERROR, "GPU error", GPU_FAILURE),
    (
        ErrorCode.MODEL_LOADING_FAILURE,
        "could not load the model",
        re.compile(
            r"error loading model|failed to load model|SafetensorError|HeaderTooLarge"
            r"|does not appear to have a file named|Can't load (the )?(config|tokenizer)"
            r"|No such file or directory: .*(config\.json|\.safetensors|tokenizer|\.gguf)"
            r"|Unrecognized model|not a valid gguf|gguf_init_from_file|invalid magic",
            re.IGNORECASE,
        ),
    ),
    (
        ErrorCode.RUNTIME_ERROR,
        "",
        # Case-sensitive: exception names and ERROR log levels, not every mention of "error".
        re.compile(
            r"^\s*(?:[\w.]+\.)?\w*(?:Error|Exception)\b|^ERROR\b|panic: |Segmentation fault"
            r"|terminate called after throwing|core dumped"
        ),
    ),
)
# Engine log decoration before the message: vLLM's process tag, level, time and call site.
LOG_LINE_PREFIX = re.compile(
    r"^(\(\w+ pid=\d+\)\s*)?"
    r"((DEBUG|INFO|WARNING|ERROR|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \[[^\]]*\]\s*)?"
)
# A loader that failed for these reasons fails again: the stack file must change.
LOADER_CONFIG_SIGNATURE = re.compile(
    # Not huggingface_hub's LocalEntryNotFound: what it raises when the Hub cannot be reached.
    r"40[134] Client Error|GatedRepo|(Repository|Revision|(?<!Local)Entry) ?Not ?Found"
    r"|is restricted"
    r"|Access ?Denied|NoSuchKey|NoSuchBucket|Unauthorized|No space left on device"
    r"|manifest unknown|pull access denied",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ClusterSnapshot:
    """Everything a reader fetched at one moment, as the API returned it."""

    deployments: Sequence[Obj] = ()
    pods: Sequence[Obj] = ()
    jobs: Sequence[Obj] = ()
    events: Sequence[Obj] = ()
    services: Sequence[Obj] = ()
    claims: Sequence[Obj] = ()
    # Log tails by log_key(pod, container).
    logs: Mapping[str, str] = field(default_factory=dict)


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


def _dig(obj: Obj | None, *keys: str) -> Any:
    value: Any = obj
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _name(obj: Obj) -> str:
    return str(_dig(obj, "metadata", "name") or "")


def _labels(obj: Obj) -> Mapping[str, str]:
    return _dig(obj, "metadata", "labels") or {}


def _timestamp(text: str | None) -> datetime:
    if not text:
        return datetime.min.replace(tzinfo=UTC)
    return datetime.fromisoformat(text)


def _event_time(event: Obj) -> datetime:
    return _timestamp(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or _dig(event, "metadata", "creationTimestamp")
    )


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def _condition(obj: Obj, kind: str) -> Obj | None:
    for condition in _dig(obj, "status", "conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def _container_statuses(pod: Obj) -> list[Obj]:
    status = pod.get("status") or {}
    return [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]


def _engine_status(pod: Obj) -> Obj | None:
    for status in _dig(pod, "status", "containerStatuses") or []:
        if status.get("name") == ENGINE_CONTAINER:
            return status
    return None


def _restarts(pod: Obj) -> int:
    return sum(int(status.get("restartCount") or 0) for status in _container_statuses(pod))


def _is_terminating(pod: Obj) -> bool:
    return _dig(pod, "metadata", "deletionTimestamp") is not None


class _Index:
    """Lookups over one snapshot, built once per derivation."""

    def __init__(self, snapshot: ClusterSnapshot) -> None:
        self.snapshot = snapshot
        self.deployments = {_name(d): d for d in snapshot.deployments}
        self.jobs = {_name(j): j for j in snapshot.jobs}
        self.services = {_name(s): s for s in snapshot.services}
        self.events: dict[tuple[str, str], list[Obj]] = {}
        for event in snapshot.events:
            involved = event.get("involvedObject") or {}
            key = (str(involved.get("kind")), str(involved.get("name")))
            self.events.setdefault(key, []).append(event)
        for events in self.events.values():
            events.sort(key=lambda e: (_event_time(e), _name(e)))

    def events_for(self, kind: str, name: str, container: str | None = None) -> list[Obj]:
        """Events about an object, oldest first; with `container`, pod-wide ones too."""
        events = self.events.get((kind, name), [])
        if container is None:
            return events
        field_path = f"spec.containers{{{container}}}"
        own = (field_path, f"spec.initContainers{{{container}}}", None)
        return [e for e in events if _dig(e, "involvedObject", "fieldPath") in own]

    def log(self, pod: Obj, container: str) -> str:
        return self.snapshot.logs.get(log_key(_name(pod), container), "")


# -- which logs a reader should fetch -------------------------------------------------------


def logs_wanted(snapshot: ClusterSnapshot) -> tuple[LogRequest, ...]:
    """The log tails derivation reads: crashed engine containers, the last failed loader."""
    requests: list[LogRequest] = []
    for pod in sorted(snapshot.pods, key=_name):
        if _labels(pod).get(COMPONENT) != ENGINE_COMPONENT:
            continue
        for status in _container_statuses(pod):
            if status.get("name") == WAIT_CONTAINER:
                continue
            crash = _crash(status)
            if crash is not None:
                previous = _dig(status, "state", "terminated") is None
                requests.append(LogRequest(_name(pod), str(status["name"]), previous))
    for job in sorted(snapshot.jobs, key=_name):
        if not _job_failed(job):
            continue
        pod = _newest_failed_pod(_job_pods(job, snapshot.pods))
        if pod is not None:
            for status in _dig(pod, "status", "containerStatuses") or []:
                requests.append(LogRequest(_name(pod), str(status["name"]), previous=False))
    return tuple(requests)


# -- logs ----------------------------------------------------------------------------------


def _log_lines(log: str) -> list[str]:
    lines = (LOG_LINE_PREFIX.sub("", line.strip()) for line in log.splitlines())
    return [line for line in lines if line]


def classify_engine_log(log: str) -> tuple[ErrorCode, str] | None:
    """The error code a log tail points at, with its newest telling line as evidence."""
    lines = _log_lines(log)
    for code, prefix, pattern in ENGINE_LOG_SIGNATURES:
        for line in reversed(lines):
            if pattern.search(line):
                return code, _short(f"{prefix}: {line}" if prefix else line)
    return None


def classify_loader_log(log: str) -> tuple[ErrorCode, str]:
    """A failed download: wrong source, token or size (reconfigure), else fetch again."""
    lines = _log_lines(log)
    for line in reversed(lines):
        if LOADER_CONFIG_SIGNATURE.search(line):
            return ErrorCode.MODEL_LOADING_FAILURE, _short(line)
    return ErrorCode.MUST_REDOWNLOAD, _short(lines[-1]) if lines else "no log left"


# -- pods: scheduling ----------------------------------------------------------------------


def scheduling_problem(pod: Obj, index: _Index) -> Problem | None:
    """A Pending pod no node takes (and no autoscaler is adding one for)."""
    if _dig(pod, "status", "phase") != "Pending" or _waiting_for_autoscaler(pod, index):
        return None
    scheduled = _condition(pod, "PodScheduled")
    if scheduled is None or scheduled.get("status") != "False":
        return None
    failures = [
        e for e in index.events_for("Pod", _name(pod)) if e.get("reason") == "FailedScheduling"
    ]
    reason = failures[-1].get("message") if failures else scheduled.get("message")
    # The scheduler appends why preemption would not help either: noise here.
    reason = str(reason or "no node fits the pod").split(" preemption:")[0].rstrip(". ")
    return Problem(
        ErrorCode.UNSCHEDULABLE,
        _short(f"{reason}. The pod asks for {hardware_request(pod)}."),
        f"pod/{_name(pod)}",
    )


def _waiting_for_autoscaler(pod: Obj, index: _Index) -> bool:
    events = index.events_for("Pod", _name(pod))
    last_failure = max(
        (_event_time(e) for e in events if e.get("reason") == "FailedScheduling"), default=None
    )
    last_scale_up = max(
        (_event_time(e) for e in events if e.get("reason") in SCALE_UP_REASONS), default=None
    )
    if last_scale_up is None:
        return False
    return last_failure is None or last_scale_up >= last_failure


def hardware_request(pod: Obj) -> str:
    """What the pod needs from a node: GPUs by resource name, and the node labels it requires."""
    spec = pod.get("spec") or {}
    gpus: dict[str, int] = {}
    for container in spec.get("containers") or []:
        limits = _dig(container, "resources", "limits") or {}
        for resource, amount in limits.items():
            if resource.endswith("/gpu"):
                gpus[resource] = gpus.get(resource, 0) + int(amount)
    wanted = ", ".join(f"{count} {resource}" for resource, count in sorted(gpus.items()))
    node_labels = [
        f"{key}={value}" for key, value in sorted((spec.get("nodeSelector") or {}).items())
    ]
    terms = _dig(
        spec,
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    )
    for term in terms or []:
        for expression in term.get("matchExpressions") or []:
            values = ", ".join(expression.get("values") or [])
            node_labels.append(f"{expression['key']} {expression['operator']} ({values})")
    text = wanted or "no GPU"
    if node_labels:
        text += " on nodes with " + "; ".join(node_labels)
    return text


# -- pods: containers ----------------------------------------------------------------------


def _crash(status: Obj) -> tuple[Obj, bool] | None:
    """The last termination of a container that is failing, and whether that is certain.

    Certain: in crash-loop back-off, or terminated with an error now. Uncertain: running
    again after restarts without being ready, which is how a crash loop spends most of its
    time while a model loads; only specific evidence (OOM, a log line) counts then.
    """
    state = status.get("state") or {}
    last = _dig(status, "lastState", "terminated")
    if _dig(state, "waiting", "reason") == "CrashLoopBackOff":
        return (last or {}), True
    terminated = state.get("terminated")
    if terminated is not None:
        return (terminated, True) if terminated.get("exitCode", 0) != 0 else None
    if last and int(status.get("restartCount") or 0) > 0 and not status.get("ready"):
        return last, False
    return None


def container_problems(
    pod: Obj, status: Obj, index: _Index, *, crashes: bool = True
) -> tuple[Problem, ...]:
    """What keeps a container from running; with `crashes`, also why it keeps stopping."""
    container = str(status.get("name"))
    source = f"pod/{_name(pod)} container {container}"
    waiting = _dig(status, "state", "waiting") or {}
    reason = waiting.get("reason")
    if reason in IMAGE_PULL_REASONS:
        return (image_pull_problem(pod, status, index, source),)
    if reason in CREATE_FAILURE_REASONS:
        message = str(waiting.get("message") or reason)
        code = ErrorCode.RUNTIME_ERROR
        if GPU_FAILURE.search(message):
            code = ErrorCode.CUDA_ERROR
        return (Problem(code, _short(f"{reason}: {message}"), source),)
    crash = _crash(status) if crashes else None
    if crash is None:
        return ()
    problem = crash_problem(pod, status, crash, index, source)
    return (problem,) if problem else ()


def image_pull_problem(pod: Obj, status: Obj, index: _Index, source: str) -> Problem:
    container = str(status.get("name"))
    # The registry's answer ("not found", "unauthorized") is in the kubelet's pull event.
    pulls = [
        e
        for e in index.events_for("Pod", _name(pod), container)
        if e.get("reason") == "Failed" and str(e.get("message", "")).startswith("Failed to pull")
    ]
    image = status.get("image") or _spec_image(pod, container)
    if pulls:
        # "Failed to pull image "x": rpc error: ...": the image is named already.
        detail = str(pulls[-1].get("message")).split('": ', 1)[-1]
    else:
        detail = str(_dig(status, "state", "waiting", "message") or "back-off pulling")
    return Problem(ErrorCode.IMAGE_PULL, _short(f"cannot pull {image}: {detail}"), source)


def _spec_image(pod: Obj, container: str) -> str:
    spec = pod.get("spec") or {}
    for item in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        if item.get("name") == container:
            return str(item.get("image"))
    return "the image"


def crash_problem(
    pod: Obj, status: Obj, crash: tuple[Obj, bool], index: _Index, source: str
) -> Problem | None:
    terminated, certain = crash
    container = str(status.get("name"))
    if terminated.get("reason") == "OOMKilled":
        limit = _memory_limit(pod, container)
        return Problem(
            ErrorCode.OOM, f"killed for using more memory than its limit ({limit})", source
        )
    from_log = classify_engine_log(index.log(pod, container))
    if from_log and from_log[0] is not ErrorCode.RUNTIME_ERROR:
        return Problem(from_log[0], from_log[1], source)
    probe = _probe_kill(status, index.events_for("Pod", _name(pod), container))
    if probe:
        return Problem(probe[0], probe[1], source)
    if from_log:
        return Problem(from_log[0], from_log[1], source)
    if certain:
        code = terminated.get("exitCode")
        why = terminated.get("reason") or "no reason given"
        return Problem(
            ErrorCode.CONTAINER_EXITED,
            f"exited with code {code} ({why}) and keeps restarting",
            source,
        )
    return None


def _memory_limit(pod: Obj, container: str) -> str:
    for item in _dig(pod, "spec", "containers") or []:
        if item.get("name") == container:
            return str(_dig(item, "resources", "limits", "memory") or "no limit set")
    return "no limit set"


def _probe_kill(status: Obj, events: Sequence[Obj]) -> tuple[ErrorCode, str] | None:
    """Restarts the kubelet caused: a startup probe that never passed, a liveness probe."""
    kills = [str(e.get("message", "")) for e in events if e.get("reason") == "Killing"]
    unhealthy = [str(e.get("message", "")) for e in events if e.get("reason") == "Unhealthy"]
    restarts = int(status.get("restartCount") or 0)
    startup_failures = [m for m in unhealthy if m.startswith("Startup probe failed")]
    killed_at_startup = any("failed startup probe" in m for m in kills)
    # Events outlive their cause by an hour: a container that has started since is past it.
    if not status.get("started") and (killed_at_startup or (startup_failures and restarts > 0)):
        evidence = startup_failures[-1] if startup_failures else kills[-1]
        message = f"restarted {restarts} time(s) before its startup probe passed: {evidence}"
        return ErrorCode.STARTUP_TIMEOUT, _short(message)
    if any("failed liveness probe" in m for m in kills):
        liveness = [m for m in unhealthy if m.startswith("Liveness probe failed")]
        evidence = liveness[-1] if liveness else "liveness probe failed"
        message = f"stopped answering its health check and was restarted: {evidence}"
        return ErrorCode.RUNTIME_ERROR, _short(message)
    return None


def pod_problems(pod: Obj, index: _Index, *, crashes: bool = True) -> tuple[Problem, ...]:
    """Problems of one pod: not placed, not started, and (with `crashes`) crashing."""
    scheduling = scheduling_problem(pod, index)
    problems = [scheduling] if scheduling else []
    for status in _container_statuses(pod):
        problems += container_problems(pod, status, index, crashes=crashes)
    return tuple(problems)


# -- instances -----------------------------------------------------------------------------


def engine_instance(pod: Obj, index: _Index) -> Instance:
    problems = pod_problems(pod, index)
    engine = _engine_status(pod) or {}
    status, detail = _engine_pod_state(pod, problems, index)
    return Instance(
        name=_name(pod),
        role=InstanceRole.ENGINE,
        status=status,
        ready=bool(engine.get("ready")),
        restarts=_restarts(pod),
        node=_dig(pod, "spec", "nodeName"),
        detail=detail,
        problems=problems,
    )


def _engine_pod_state(
    pod: Obj, problems: tuple[Problem, ...], index: _Index
) -> tuple[InstanceStatus, str]:
    if _is_terminating(pod):
        return InstanceStatus.TERMINATING, "shutting down"
    failing = problem_status(problems)
    if failing is not None:
        return InstanceStatus(failing.value), ", ".join(p.code.value for p in problems)
    scheduled = _condition(pod, "PodScheduled")
    if scheduled is None or scheduled.get("status") != "True":
        if _waiting_for_autoscaler(pod, index):
            return InstanceStatus.REQUESTED, "waiting for a new node from the autoscaler"
        return InstanceStatus.REQUESTED, "waiting for a node"
    if not _model_files_present(pod):
        return InstanceStatus.COPYING_FILES, "waiting for the model files in the cache"
    engine = _engine_status(pod) or {}
    if engine.get("ready"):
        return InstanceStatus.DEPLOYED, "ready"
    if _dig(engine, "state", "running"):
        return InstanceStatus.STARTING, "loading the model (health check not passed yet)"
    waiting = _dig(engine, "state", "waiting", "reason")
    return InstanceStatus.STARTING, f"creating the container ({waiting or 'pending'})"


def _model_files_present(pod: Obj) -> bool:
    """The wait-for-model init container finished, or the pod does not have one."""
    init_names = {c.get("name") for c in _dig(pod, "spec", "initContainers") or []}
    if WAIT_CONTAINER not in init_names:
        return True
    for status in _dig(pod, "status", "initContainerStatuses") or []:
        if status.get("name") == WAIT_CONTAINER:
            return _dig(status, "state", "terminated", "exitCode") == 0
    return False


def loader_instance(pod: Obj, index: _Index, job_problems: tuple[Problem, ...]) -> Instance:
    phase = _dig(pod, "status", "phase")
    # A Job retries crashed attempts itself: only a pod that cannot start is a problem.
    problems = job_problems if phase == "Failed" else pod_problems(pod, index, crashes=False)
    failing = problem_status(problems)
    if failing is not None:
        status, detail = InstanceStatus(failing.value), ", ".join(p.code.value for p in problems)
    elif _dig(pod, "spec", "nodeName") is None:
        status, detail = InstanceStatus.REQUESTED, "waiting for a node"
    else:
        status, detail = InstanceStatus.COPYING_FILES, "copying the model into the cache"
    return Instance(
        name=_name(pod),
        role=InstanceRole.LOADER,
        status=status,
        ready=False,
        restarts=_restarts(pod),
        node=_dig(pod, "spec", "nodeName"),
        detail=detail,
        problems=problems,
    )


# -- the cache loader ----------------------------------------------------------------------


def _job_failed(job: Obj) -> bool:
    condition = _condition(job, "Failed")
    return condition is not None and condition.get("status") == "True"


def _job_complete(job: Obj) -> bool:
    condition = _condition(job, "Complete")
    if condition is not None:
        return condition.get("status") == "True"
    return int(_dig(job, "status", "succeeded") or 0) > 0


def _job_pods(job: Obj, pods: Iterable[Obj]) -> list[Obj]:
    name = _name(job)
    owned = []
    for pod in pods:
        owners = _dig(pod, "metadata", "ownerReferences") or []
        by_owner = any(o.get("kind") == "Job" and o.get("name") == name for o in owners)
        by_label = any(_labels(pod).get(label) == name for label in JOB_NAME_LABELS)
        if by_owner or by_label:
            owned.append(pod)
    return sorted(
        owned, key=lambda p: (_timestamp(_dig(p, "metadata", "creationTimestamp")), _name(p))
    )


def _newest_failed_pod(pods: Sequence[Obj]) -> Obj | None:
    failed = [p for p in pods if _dig(p, "status", "phase") == "Failed"]
    return failed[-1] if failed else None


def loader_instances(
    job: Obj | None, job_problems: tuple[Problem, ...], index: _Index
) -> tuple[Instance, ...]:
    """Attempts worth showing: those running now, or the last one of a Job that gave up."""
    if job is None or _job_complete(job):
        return ()
    pods = _job_pods(job, index.snapshot.pods)
    if job_problems:
        newest = _newest_failed_pod(pods)
        pods = [newest] if newest is not None else []
    else:
        pods = [p for p in pods if _dig(p, "status", "phase") in ("Pending", "Running")]
    return tuple(loader_instance(pod, index, job_problems) for pod in pods)


def loader_problems(job: Obj, index: _Index) -> tuple[Problem, ...]:
    """A loader Job that gave up: why, from the log of its last attempt."""
    if not _job_failed(job):
        return ()
    condition = _condition(job, "Failed") or {}
    pod = _newest_failed_pod(_job_pods(job, index.snapshot.pods))
    log = ""
    if pod is not None:
        for status in _dig(pod, "status", "containerStatuses") or []:
            log = log or index.log(pod, str(status.get("name")))
            # No log to read (node gone, logs rotated): the kubelet's copy of its tail.
            log = log or str(_dig(status, "state", "terminated", "message") or "")
    code, evidence = classify_loader_log(log)
    if not log:
        evidence = str(condition.get("message") or "no log left")
    attempts = int(_dig(job, "status", "failed") or 0)
    reason = condition.get("reason") or "Failed"
    return (
        Problem(
            code,
            _short(
                f"the cache loader failed {attempts} time(s) and gave up ({reason}): {evidence}"
            ),
            f"job/{_name(job)}",
        ),
    )


def _claim_trouble(deployment: str, index: _Index) -> str:
    """Why the cache claim cannot be provisioned, when Kubernetes said so."""
    for claim in index.snapshot.claims:
        if _labels(claim).get(DEPLOYMENT) != deployment:
            continue
        if _dig(claim, "status", "phase") == "Bound":
            continue
        failures = [
            e
            for e in index.events_for("PersistentVolumeClaim", _name(claim))
            if e.get("reason") == "ProvisioningFailed"
        ]
        if failures:
            return f"; claim {_name(claim)}: {failures[-1].get('message')}"
    return ""


def cache_condition(
    deployment: ExpectedDeployment,
    slot: ExpectedSlot,
    engine_pods: Sequence[Obj],
    cache_problems: tuple[Problem, ...],
    index: _Index,
) -> Condition:
    ready = ConditionType.CACHE_READY
    if slot.loader_job is None:
        return Condition(ready, True, "NoDownload", "the model is read where it is; no cache")
    job = index.jobs.get(slot.loader_job)
    if job is not None and _job_complete(job):
        return Condition(ready, True, "CacheWarm", f"loader Job {slot.loader_job} completed")
    if cache_problems:
        first = cache_problems[0]
        return Condition(ready, False, "CacheFailed", f"{first.code.value}: {first.message}")
    if job is None:
        if any(_model_files_present(pod) for pod in engine_pods):
            return Condition(ready, True, "CacheWarm", "engine pods found the model in the cache")
        message = f"loader Job {slot.loader_job} does not exist yet"
        message += _claim_trouble(deployment.name, index)
        return Condition(ready, False, "WaitingForCache", _short(message))
    active = int(_dig(job, "status", "active") or 0)
    message = f"loader Job {slot.loader_job} is copying the model ({active} pod(s) active)"
    return Condition(
        ready, False, "CacheWarming", _short(message + _claim_trouble(deployment.name, index))
    )


# -- the engine Deployment -----------------------------------------------------------------


def _spec_replicas(workload: Obj) -> int:
    replicas = _dig(workload, "spec", "replicas")
    return 1 if replicas is None else int(replicas)  # the API's default


def desired_replicas(workload: Obj | None, slot: ExpectedSlot) -> int:
    """What the cluster aims for (an autoscaler may have changed it), else the plan's count."""
    return slot.replicas if workload is None else _spec_replicas(workload)


def rollout_complete(workload: Obj) -> bool:
    """Like `kubectl rollout status`: every replica updated and available, none left over."""
    status = workload.get("status") or {}
    desired = _spec_replicas(workload)
    generation = int(_dig(workload, "metadata", "generation") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    return (
        int(status.get("observedGeneration") or 0) >= generation
        and updated >= desired
        and int(status.get("replicas") or 0) <= updated
        and int(status.get("availableReplicas") or 0) >= updated
    )


def rollout_problems(workload: Obj) -> tuple[Problem, ...]:
    """What the Deployment's own conditions say; pod problems are more specific."""
    source = f"deployment/{_name(workload)}"
    problems = []
    progressing = _condition(workload, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        deadline = _dig(workload, "spec", "progressDeadlineSeconds")
        message = f"no rollout progress within {deadline}s: {progressing.get('message', '')}"
        problems.append(Problem(ErrorCode.STARTUP_TIMEOUT, _short(message), source))
    failure = _condition(workload, "ReplicaFailure")
    if failure and failure.get("status") == "True":
        message = str(failure.get("message") or failure.get("reason"))
        problems.append(Problem(ErrorCode.RUNTIME_ERROR, _short(message), source))
    return tuple(problems)


def slot_pods(
    workload: Obj | None, deployment: str, slot: ExpectedSlot, index: _Index
) -> list[Obj]:
    """The slot's engine pods: what its Deployment selects (by labels, when it is gone)."""
    selector = _dig(workload, "spec", "selector", "matchLabels") if workload else None
    pods = []
    for pod in index.snapshot.pods:
        labels = _labels(pod)
        if labels.get(COMPONENT) != ENGINE_COMPONENT:
            continue
        if selector:
            matches = _selects(selector, labels)
        else:
            matches = (
                labels.get(DEPLOYMENT) == deployment
                and labels.get(SLOT) == slot.slot
                and labels.get(INSTANCE, slot.workload) == slot.workload
            )
        if matches and _dig(pod, "status", "phase") not in ("Succeeded", "Failed"):
            pods.append(pod)
    return sorted(pods, key=_name)


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
    updated = int(_dig(workload, "status", "updatedReplicas") or 0)
    message = f"{ready}/{desired} replicas ready, {updated}/{desired} on the new version"
    return Condition(kind, False, "CreatingRuntime", message)


# -- routing -------------------------------------------------------------------------------


def routing_condition(
    deployment: ExpectedDeployment, slot: ExpectedSlot, workload: Obj | None, index: _Index
) -> Condition:
    """The serving slot behind the stable Service; any other slot behind its own only."""
    kind = ConditionType.ROUTING_READY
    pod_labels = _dig(workload, "spec", "template", "metadata", "labels") or {
        DEPLOYMENT: deployment.name,
        SLOT: slot.slot,
    }
    stable = index.services.get(deployment.stable_service)
    selector = (_dig(stable, "spec", "selector") or {}) if stable else {}
    selected = _selects(selector, pod_labels)
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
        labels = _labels(service)
        if (
            labels.get(COMPONENT) == SLOT_SERVICE_COMPONENT
            and labels.get(DEPLOYMENT) == deployment.name
            and labels.get(SLOT) == slot.slot
        ):
            message = f"not serving; reachable for tests through Service {_name(service)}"
            return Condition(kind, True, "SlotRoute", message)
    return Condition(kind, False, "ConfiguringRoute", "the slot's Service does not exist yet")


def ready_condition(*conditions: Condition) -> Condition:
    failing = [condition for condition in conditions if not condition.status]
    if not failing:
        return Condition(ConditionType.READY, True, "Ready", "cache, runtime and routing ready")
    return Condition(ConditionType.READY, False, failing[0].reason, failing[0].message)


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
    if any(
        _dig(_engine_status(pod), "state", "running") for pod in pods if not _is_terminating(pod)
    ):
        return DeploymentStatus.INITIALIZING
    return DeploymentStatus.DEPLOYING


def derive_slot(deployment: ExpectedDeployment, slot: ExpectedSlot, index: _Index) -> SlotReport:
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
    ready = int(_dig(workload, "status", "readyReplicas") or 0) if workload else 0

    cache = cache_condition(deployment, slot, pods, cache_problems, index)
    runtime = runtime_condition(workload, slot, runtime_problems, ready)
    routing = routing_condition(deployment, slot, workload, index)
    conditions = {
        c.type: c for c in (cache, runtime, routing, ready_condition(cache, runtime, routing))
    }
    problems = _distinct(cache_problems + runtime_problems)
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


def _distinct(problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    """Each cause once: replicas of a slot usually fail the same way."""
    seen: dict[tuple[ErrorCode, str], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.code, problem.message), problem)
    return tuple(seen.values())


_PROGRESS = (
    DeploymentStatus.REQUESTED,
    DeploymentStatus.DEPLOYING,
    DeploymentStatus.INITIALIZING,
    DeploymentStatus.DEPLOYED,
)


def deployment_status(slots: Sequence[SlotReport]) -> DeploymentStatus:
    """Any failing slot decides; else nothing serving means STOPPED; else the slowest slot."""
    statuses = {slot.status for slot in slots}
    for bad in (DeploymentStatus.FAILED, DeploymentStatus.ERROR):
        if bad in statuses:
            return bad
    serving = [slot for slot in slots if slot.serving]
    if all(slot.status is DeploymentStatus.STOPPED for slot in serving):
        return DeploymentStatus.STOPPED
    running = [slot.status for slot in slots if slot.status is not DeploymentStatus.STOPPED]
    return min(running, key=_PROGRESS.index)


def deployment_report(
    expected: ExpectedDeployment, slots: tuple[SlotReport, ...]
) -> DeploymentReport:
    """A deployment's report from its slots' (both targets)."""
    return DeploymentReport(
        name=expected.name,
        status=deployment_status(slots),
        endpoint=expected.endpoint,
        serving_slot=expected.serving_slot,
        hardware=expected.hardware,
        slots=slots,
    )


def stack_report(
    expectation: StackExpectation,
    deployments: tuple[DeploymentReport, ...],
    labelled: Iterable[str | None],
) -> StackReport:
    """The stack's report (both targets). `labelled`: the deployment label of everything found
    under the stack's namespace; those it no longer declares are reported as unmanaged."""
    declared = {deployment.name for deployment in expectation.deployments}
    return StackReport(
        stack=expectation.stack,
        target=expectation.target,
        namespace=expectation.namespace,
        context=expectation.context,
        deployments=deployments,
        unmanaged=tuple(sorted({name for name in labelled if name and name not in declared})),
    )


def derive_stack(expectation: StackExpectation, snapshot: ClusterSnapshot) -> StackReport:
    index = _Index(snapshot)
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
    labelled = (_labels(obj).get(DEPLOYMENT) for objects in left for obj in objects)
    return stack_report(expectation, deployments, labelled)
