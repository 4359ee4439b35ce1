"""Engine pods and loader Jobs -> instances and problems: scheduling, image pulls, crashes,
probe kills, loader failures, and which log tails a reader should fetch for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from components.identity import COMPONENT, ENGINE_COMPONENT, JOB_NAME_LABELS
from components.status.kubernetes_objects import (
    CREATE_FAILURE_REASONS,
    ENGINE_CONTAINER,
    IMAGE_PULL_REASONS,
    SCALE_UP_REASONS,
    WAIT_CONTAINER,
    ClusterSnapshot,
    LogRequest,
    Obj,
    SnapshotIndex,
    condition_of,
    container_statuses,
    dig,
    engine_status,
    event_time,
    is_terminating,
    labels_of,
    name_of,
    past_progress_deadline,
    restarts,
    selects,
    timestamp,
)
from components.status.log_classifiers import (
    GPU_FAILURE,
    classify_engine_log,
    classify_loader_log,
    shorten,
)
from components.status.model import (
    ErrorCode,
    Instance,
    InstanceRole,
    InstanceStatus,
    Problem,
    problem_status,
)


def logs_wanted(snapshot: ClusterSnapshot) -> tuple[LogRequest, ...]:
    """The log tails derivation reads: crashed engine containers, the last failed loader."""
    requests: list[LogRequest] = []
    for pod in sorted(snapshot.pods, key=name_of):
        if labels_of(pod).get(COMPONENT) != ENGINE_COMPONENT:
            continue
        for status in container_statuses(pod):
            if status.get("name") == WAIT_CONTAINER:
                continue
            crash = crash_of(status)
            if crash is not None:
                previous = dig(status, "state", "terminated") is None
                requests.append(LogRequest(name_of(pod), str(status["name"]), previous))
    # Engines still loading past their Deployment's deadline: the log tells how far they got.
    for workload in snapshot.deployments:
        if not past_progress_deadline(workload):
            continue
        selector = dig(workload, "spec", "selector", "matchLabels") or {}
        for pod in sorted(snapshot.pods, key=name_of):
            engine = engine_status(pod) or {}
            request = LogRequest(name_of(pod), ENGINE_CONTAINER, previous=False)
            loading = dig(engine, "state", "running") and not engine.get("ready")
            taken = any(r.key == request.key for r in requests)
            if selects(selector, labels_of(pod)) and loading and not taken:
                requests.append(request)
    for job in sorted(snapshot.jobs, key=name_of):
        if not job_failed(job):
            continue
        pod = newest_failed_pod(job_pods(job, snapshot.pods))
        if pod is not None:
            for status in dig(pod, "status", "containerStatuses") or []:
                requests.append(LogRequest(name_of(pod), str(status["name"]), previous=False))
    return tuple(requests)


def scheduling_problem(pod: Obj, index: SnapshotIndex) -> Problem | None:
    """A Pending pod no node takes (and no autoscaler is adding one for)."""
    if dig(pod, "status", "phase") != "Pending" or _waiting_for_autoscaler(pod, index):
        return None
    scheduled = condition_of(pod, "PodScheduled")
    if scheduled is None or scheduled.get("status") != "False":
        return None
    failures = [
        e for e in index.events_for("Pod", name_of(pod)) if e.get("reason") == "FailedScheduling"
    ]
    reason = failures[-1].get("message") if failures else scheduled.get("message")
    # The scheduler appends why preemption would not help either: noise here.
    reason = str(reason or "no node fits the pod").split(" preemption:")[0].rstrip(". ")
    return Problem(
        ErrorCode.UNSCHEDULABLE,
        shorten(f"{reason}. The pod asks for {hardware_request(pod)}."),
        f"pod/{name_of(pod)}",
    )


def _waiting_for_autoscaler(pod: Obj, index: SnapshotIndex) -> bool:
    events = index.events_for("Pod", name_of(pod))
    last_failure = max(
        (event_time(e) for e in events if e.get("reason") == "FailedScheduling"), default=None
    )
    last_scale_up = max(
        (event_time(e) for e in events if e.get("reason") in SCALE_UP_REASONS), default=None
    )
    if last_scale_up is None:
        return False
    return last_failure is None or last_scale_up >= last_failure


def hardware_request(pod: Obj) -> str:
    """What the pod needs from a node: GPUs by resource name, and the node labels it requires."""
    spec = pod.get("spec") or {}
    gpus: dict[str, int] = {}
    for container in spec.get("containers") or []:
        limits = dig(container, "resources", "limits") or {}
        for resource, amount in limits.items():
            if resource.endswith("/gpu"):
                gpus[resource] = gpus.get(resource, 0) + int(amount)
    wanted = ", ".join(f"{count} {resource}" for resource, count in sorted(gpus.items()))
    node_labels = [
        f"{key}={value}" for key, value in sorted((spec.get("nodeSelector") or {}).items())
    ]
    terms = dig(
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


def crash_of(status: Obj) -> tuple[Obj, bool] | None:
    """The last termination of a container that is failing, and whether that is certain.

    Certain: in crash-loop back-off, or terminated with an error now. Uncertain: running
    again after restarts without being ready, which is how a crash loop spends most of its
    time while a model loads; only specific evidence (OOM, a log line) counts then.
    """
    state = status.get("state") or {}
    last = dig(status, "lastState", "terminated")
    if dig(state, "waiting", "reason") == "CrashLoopBackOff":
        return (last or {}), True
    terminated = state.get("terminated")
    if terminated is not None:
        return (terminated, True) if terminated.get("exitCode", 0) != 0 else None
    if last and int(status.get("restartCount") or 0) > 0 and not status.get("ready"):
        return last, False
    return None


def container_problems(
    pod: Obj, status: Obj, index: SnapshotIndex, *, crashes: bool = True
) -> tuple[Problem, ...]:
    """What keeps a container from running; with `crashes`, also why it keeps stopping."""
    container = str(status.get("name"))
    source = f"pod/{name_of(pod)} container {container}"
    waiting = dig(status, "state", "waiting") or {}
    reason = waiting.get("reason")
    if reason in IMAGE_PULL_REASONS:
        return (image_pull_problem(pod, status, index, source),)
    if reason in CREATE_FAILURE_REASONS:
        message = str(waiting.get("message") or reason)
        code = ErrorCode.RUNTIME_ERROR
        if GPU_FAILURE.search(message):
            code = ErrorCode.CUDA_ERROR
        return (Problem(code, shorten(f"{reason}: {message}"), source),)
    crash = crash_of(status) if crashes else None
    if crash is None:
        return ()
    problem = crash_problem(pod, status, crash, index, source)
    return (problem,) if problem else ()


def image_pull_problem(pod: Obj, status: Obj, index: SnapshotIndex, source: str) -> Problem:
    container = str(status.get("name"))
    # The registry's answer ("not found", "unauthorized") is in the kubelet's pull event.
    pulls = [
        e
        for e in index.events_for("Pod", name_of(pod), container)
        if e.get("reason") == "Failed" and str(e.get("message", "")).startswith("Failed to pull")
    ]
    image = status.get("image") or _spec_image(pod, container)
    if pulls:
        # "Failed to pull image "x": rpc error: ...": the image is named already.
        detail = str(pulls[-1].get("message")).split('": ', 1)[-1]
    else:
        detail = str(dig(status, "state", "waiting", "message") or "back-off pulling")
    return Problem(ErrorCode.IMAGE_PULL, shorten(f"cannot pull {image}: {detail}"), source)


def _spec_image(pod: Obj, container: str) -> str:
    spec = pod.get("spec") or {}
    for item in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        if item.get("name") == container:
            return str(item.get("image"))
    return "the image"


def crash_problem(
    pod: Obj, status: Obj, crash: tuple[Obj, bool], index: SnapshotIndex, source: str
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
    probe = _probe_kill(status, index.events_for("Pod", name_of(pod), container))
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
    for item in dig(pod, "spec", "containers") or []:
        if item.get("name") == container:
            return str(dig(item, "resources", "limits", "memory") or "no limit set")
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
        return ErrorCode.STARTUP_TIMEOUT, shorten(message)
    if any("failed liveness probe" in m for m in kills):
        liveness = [m for m in unhealthy if m.startswith("Liveness probe failed")]
        evidence = liveness[-1] if liveness else "liveness probe failed"
        message = f"stopped answering its health check and was restarted: {evidence}"
        return ErrorCode.RUNTIME_ERROR, shorten(message)
    return None


def pod_problems(pod: Obj, index: SnapshotIndex, *, crashes: bool = True) -> tuple[Problem, ...]:
    """Problems of one pod: not placed, not started, and (with `crashes`) crashing."""
    scheduling = scheduling_problem(pod, index)
    problems = [scheduling] if scheduling else []
    for status in container_statuses(pod):
        problems += container_problems(pod, status, index, crashes=crashes)
    return tuple(problems)


# -- instances -----------------------------------------------------------------------------


def engine_instance(pod: Obj, index: SnapshotIndex) -> Instance:
    problems = pod_problems(pod, index)
    engine = engine_status(pod) or {}
    status, detail = _engine_pod_state(pod, problems, index)
    return Instance(
        name=name_of(pod),
        role=InstanceRole.ENGINE,
        status=status,
        ready=bool(engine.get("ready")),
        restarts=restarts(pod),
        node=dig(pod, "spec", "nodeName"),
        detail=detail,
        problems=problems,
    )


def _engine_pod_state(
    pod: Obj, problems: tuple[Problem, ...], index: SnapshotIndex
) -> tuple[InstanceStatus, str]:
    if is_terminating(pod):
        return InstanceStatus.TERMINATING, "shutting down"
    failing = problem_status(problems)
    if failing is not None:
        return InstanceStatus(failing.value), ", ".join(p.code.value for p in problems)
    scheduled = condition_of(pod, "PodScheduled")
    if scheduled is None or scheduled.get("status") != "True":
        if _waiting_for_autoscaler(pod, index):
            return InstanceStatus.REQUESTED, "waiting for a new node from the autoscaler"
        return InstanceStatus.REQUESTED, "waiting for a node"
    if not model_files_present(pod):
        return InstanceStatus.COPYING_FILES, "waiting for the model files in the cache"
    engine = engine_status(pod) or {}
    if engine.get("ready"):
        return InstanceStatus.DEPLOYED, "ready"
    if dig(engine, "state", "running"):
        return InstanceStatus.STARTING, "loading the model (health check not passed yet)"
    waiting = dig(engine, "state", "waiting", "reason")
    return InstanceStatus.STARTING, f"creating the container ({waiting or 'pending'})"


def model_files_present(pod: Obj) -> bool:
    """The wait-for-model init container finished, or the pod does not have one."""
    init_names = {c.get("name") for c in dig(pod, "spec", "initContainers") or []}
    if WAIT_CONTAINER not in init_names:
        return True
    for status in dig(pod, "status", "initContainerStatuses") or []:
        if status.get("name") == WAIT_CONTAINER:
            return dig(status, "state", "terminated", "exitCode") == 0
    return False


def loader_instance(pod: Obj, index: SnapshotIndex, job_problems: tuple[Problem, ...]) -> Instance:
    phase = dig(pod, "status", "phase")
    # A Job retries crashed attempts itself: only a pod that cannot start is a problem.
    problems = job_problems if phase == "Failed" else pod_problems(pod, index, crashes=False)
    failing = problem_status(problems)
    if failing is not None:
        status, detail = InstanceStatus(failing.value), ", ".join(p.code.value for p in problems)
    elif dig(pod, "spec", "nodeName") is None:
        status, detail = InstanceStatus.REQUESTED, "waiting for a node"
    else:
        status, detail = InstanceStatus.COPYING_FILES, "copying the model into the cache"
    return Instance(
        name=name_of(pod),
        role=InstanceRole.LOADER,
        status=status,
        ready=False,
        restarts=restarts(pod),
        node=dig(pod, "spec", "nodeName"),
        detail=detail,
        problems=problems,
    )


# -- the cache loader ----------------------------------------------------------------------


def job_failed(job: Obj) -> bool:
    condition = condition_of(job, "Failed")
    return condition is not None and condition.get("status") == "True"


def job_complete(job: Obj) -> bool:
    condition = condition_of(job, "Complete")
    if condition is not None:
        return condition.get("status") == "True"
    return int(dig(job, "status", "succeeded") or 0) > 0


def job_pods(job: Obj, pods: Iterable[Obj]) -> list[Obj]:
    name = name_of(job)
    owned = []
    for pod in pods:
        owners = dig(pod, "metadata", "ownerReferences") or []
        by_owner = any(o.get("kind") == "Job" and o.get("name") == name for o in owners)
        by_label = any(labels_of(pod).get(label) == name for label in JOB_NAME_LABELS)
        if by_owner or by_label:
            owned.append(pod)
    return sorted(
        owned, key=lambda p: (timestamp(dig(p, "metadata", "creationTimestamp")), name_of(p))
    )


def newest_failed_pod(pods: Sequence[Obj]) -> Obj | None:
    failed = [p for p in pods if dig(p, "status", "phase") == "Failed"]
    return failed[-1] if failed else None


def loader_instances(
    job: Obj | None, job_problems: tuple[Problem, ...], index: SnapshotIndex
) -> tuple[Instance, ...]:
    """Attempts worth showing: those running now, or the last one of a Job that gave up."""
    if job is None or job_complete(job):
        return ()
    pods = job_pods(job, index.snapshot.pods)
    if job_problems:
        newest = newest_failed_pod(pods)
        pods = [newest] if newest is not None else []
    else:
        pods = [p for p in pods if dig(p, "status", "phase") in ("Pending", "Running")]
    return tuple(loader_instance(pod, index, job_problems) for pod in pods)


def loader_problems(job: Obj, index: SnapshotIndex) -> tuple[Problem, ...]:
    """A loader Job that gave up: why, from the log of its last attempt."""
    if not job_failed(job):
        return ()
    condition = condition_of(job, "Failed") or {}
    pod = newest_failed_pod(job_pods(job, index.snapshot.pods))
    log = ""
    if pod is not None:
        for status in dig(pod, "status", "containerStatuses") or []:
            log = log or index.log(pod, str(status.get("name")))
            # No log to read (node gone, logs rotated): the kubelet's copy of its tail.
            log = log or str(dig(status, "state", "terminated", "message") or "")
    code, evidence = classify_loader_log(log)
    if not log:
        evidence = str(condition.get("message") or "no log left")
    attempts = int(dig(job, "status", "failed") or 0)
    reason = condition.get("reason") or "Failed"
    return (
        Problem(
            code,
            shorten(
                f"the cache loader failed {attempts} time(s) and gave up ({reason}): {evidence}"
            ),
            f"job/{name_of(job)}",
        ),
    )
