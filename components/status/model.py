"""The status vocabulary: what a deployment, slot and instance can be, why, and what to do.

Target-neutral. A reader (Kubernetes, Docker) observes its target and returns a
StackReport; the command prints it. What the stack file expects comes from the plan, so a
deployment that does not exist yet still shows up, as REQUESTED.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from components.status.debug_commands import DebugAccess
from components.status.progressive_canary import CanaryReport, ExpectedCanary, canary_json

if TYPE_CHECKING:
    from components.plan import StackPlan
    from components.planning.plan_model import SlotPlan


class DeploymentStatus(StrEnum):
    """Where a deployment (or one slot of it) stands; the order is the order of progress."""

    REQUESTED = "REQUESTED"  # in the stack file; nothing of it exists yet
    DEPLOYING = "DEPLOYING"  # being put in place: cache filling, pods placed, images pulled
    INITIALIZING = "INITIALIZING"  # engines run and load the model; not all answer yet
    # Still coming up after the plan's window for it ("progressing with timeout"): nothing
    # names a cause, so the evidence (events, the log tail) is what to read.
    OVERDUE = "OVERDUE"
    # Serves, but not fully: some replicas fail while others answer, or the route reaches
    # the engines only in part (a Gateway refuses it, the docker gateway misses engines).
    DEGRADED = "DEGRADED"
    DEPLOYED = "DEPLOYED"  # every replica ready and the route points at it
    STOPPED = "STOPPED"  # scaled to zero on purpose: configuration and cache stay
    ERROR = "ERROR"  # a problem a retry or an outside fix may clear
    FAILED = "FAILED"  # a problem that stays until the stack file changes


class InstanceStatus(StrEnum):
    """One replica (an engine pod) or one attempt of the cache loader."""

    REQUESTED = "REQUESTED"  # waiting for a node
    COPYING_FILES = "COPYING_FILES"  # model files are being copied into the cache
    STARTING = "STARTING"  # created; the engine has not passed its probes yet
    DEPLOYED = "DEPLOYED"  # ready: receives traffic
    TERMINATING = "TERMINATING"  # shutting down (scale-down, rollout, switch)
    ERROR = "ERROR"
    FAILED = "FAILED"


class InstanceRole(StrEnum):
    ENGINE = "engine"
    LOADER = "loader"


class Remedy(StrEnum):
    """What gets a problem out of the way: trying again, or changing the stack file."""

    RETRY = "retry"
    RECONFIGURE = "reconfigure"


@dataclass(frozen=True)
class Guidance:
    remedy: Remedy
    advice: str


class ErrorCode(StrEnum):
    OOM = "OOM"
    CUDA_ERROR = "CUDA_ERROR"
    MODEL_LOADING_FAILURE = "MODEL_LOADING_FAILURE"
    CONTAINER_EXITED = "CONTAINER_EXITED"
    RUNTIME_ERROR = "RUNTIME_ERROR"
    STARTUP_TIMEOUT = "STARTUP_TIMEOUT"
    MUST_REDOWNLOAD = "MUST_REDOWNLOAD"
    IMAGE_PULL = "IMAGE_PULL"
    UNSCHEDULABLE = "UNSCHEDULABLE"
    ROUTING_FAILURE = "ROUTING_FAILURE"
    ROLLED_BACK = "ROLLED_BACK"

    @property
    def guidance(self) -> Guidance:
        return GUIDANCE[self]


GUIDANCE: dict[ErrorCode, Guidance] = {
    ErrorCode.OOM: Guidance(
        Remedy.RECONFIGURE,
        "The engine needs more memory than it has. Host memory: raise resources.memory. "
        "GPU memory: pick a lower precision, a smaller model, more GPUs (gpu.count) or a "
        "larger one (gpu.type). Retrying as is fails the same way.",
    ),
    ErrorCode.CUDA_ERROR: Guidance(
        Remedy.RETRY,
        "The GPU stack failed (device, driver or CUDA version). One node only: delete the pod "
        "so it lands on another node. Every pod: the image needs a newer driver than the nodes "
        "have; pin an image built for their driver (image:) or upgrade the node pool.",
    ),
    ErrorCode.MODEL_LOADING_FAILURE: Guidance(
        Remedy.RECONFIGURE,
        "The model could not be fetched or read. Check model.source, model.revision and "
        "model.format; gated Hugging Face repositories need hfToken with access granted; a "
        "full cache volume needs a larger cache.size.",
    ),
    ErrorCode.CONTAINER_EXITED: Guidance(
        Remedy.RECONFIGURE,
        "The engine process ended by itself. The log tail tells why: an engine that does not "
        "support this model, a bad env value or image, or too little memory. Fix engine, "
        "image, env or resources, then `pulumi up`.",
    ),
    ErrorCode.RUNTIME_ERROR: Guidance(
        Remedy.RETRY,
        "An error without a more specific code. Read the message and the logs "
        "(`kubectl logs --previous`); once the cause is gone, Kubernetes or `pulumi up` "
        "brings the pods back.",
    ),
    ErrorCode.STARTUP_TIMEOUT: Guidance(
        Remedy.RECONFIGURE,
        "The engine did not answer its health check within the startup time, so it was "
        "restarted. Large models on slow storage need a higher startupTimeoutSeconds; "
        "otherwise serve a smaller model or precision.",
    ),
    ErrorCode.MUST_REDOWNLOAD: Guidance(
        Remedy.RETRY,
        "The cache loader gave up before the model was complete (network or storage trouble). "
        "Delete its Job (`kubectl delete job NAME`) and run `pulumi up --refresh` to fetch the "
        "model again; engines start once the cache is complete.",
    ),
    ErrorCode.IMAGE_PULL: Guidance(
        Remedy.RETRY,
        "The node cannot pull the image. Check that the tag in image: exists and the registry "
        "is reachable with the cluster's pull credentials; Kubernetes keeps retrying and "
        "continues by itself once the image can be pulled.",
    ),
    ErrorCode.UNSCHEDULABLE: Guidance(
        Remedy.RETRY,
        "No node can take the pod: none offers the GPU type and count asked for, or none has "
        "room left. Add nodes to the GPU pool (or let the autoscaler do it), or ask for what "
        "the cluster has: gpu.type, gpu.count, kubernetes.cloud.",
    ),
    # The Gateway is often another team's: an outside fix clears it as often as the stack file.
    ErrorCode.ROUTING_FAILURE: Guidance(
        Remedy.RETRY,
        "The Gateway refuses the route or its InferencePool, cannot resolve some backends, "
        "or a pool's endpoint picker has no ready pod; the message names the condition or "
        "the commands that say why. Check kubernetes.gateway (name, namespace, a listener "
        "whose allowedRoutes admits this namespace), route.hosts against the listener's "
        "hostname, and a ReferenceGrant for backends in another namespace. Inside the "
        "cluster the engines still answer through their Service.",
    ),
    # Flagger tries a revision once: only a change to the Deployment's pods starts another.
    ErrorCode.ROLLED_BACK: Guidance(
        Remedy.RECONFIGURE,
        "Flagger's analysis of the new version failed (a check above its maximum, or the "
        "candidate not ready within its window), so the primary serves the previous version. "
        "`kubectl describe canary NAME -n NAMESPACE` lists the events that name the check; fix "
        "the version (image, env, model) or the check's maximum, then `pulumi up` starts a "
        "new analysis.",
    ),
}


# Where the advice above names Kubernetes objects or commands: the same advice for Docker.
DOCKER_GUIDANCE: dict[ErrorCode, Guidance] = {
    ErrorCode.CUDA_ERROR: Guidance(
        Remedy.RETRY,
        "The GPU stack failed (device, driver, CUDA version, or the NVIDIA container toolkit). "
        "Check `nvidia-smi` on the host and that Docker has the nvidia runtime; if the image "
        "needs a newer driver than the host has, pin an older image (image:) or upgrade it.",
    ),
    ErrorCode.RUNTIME_ERROR: Guidance(
        Remedy.RETRY,
        "An error without a more specific code. Read the message and the logs "
        "(`docker logs CONTAINER`); once the cause is gone, `docker start CONTAINER` or "
        "`pulumi up --refresh` brings it back (a plain `pulumi up` does not notice "
        "containers that stopped or went away).",
    ),
    ErrorCode.STARTUP_TIMEOUT: Guidance(
        Remedy.RECONFIGURE,
        "The engine did not pass its health check within the startup time. Large models on "
        "slow disks need a higher startupTimeoutSeconds; otherwise serve a smaller model or "
        "precision.",
    ),
    ErrorCode.MUST_REDOWNLOAD: Guidance(
        Remedy.RETRY,
        "The cache loader gave up before the model was complete (network or disk trouble). "
        "Run `pulumi up` again once the cause is gone: it runs the loader afresh (what was "
        "fetched stays in the cache volume); engines start once the cache is complete.",
    ),
    ErrorCode.UNSCHEDULABLE: Guidance(
        Remedy.RECONFIGURE,
        "This machine cannot give the container what it asks for (GPUs, memory). Ask for "
        "what it has (gpu.count, resources) or free what other containers hold.",
    ),
    ErrorCode.IMAGE_PULL: Guidance(
        Remedy.RETRY,
        "Docker cannot pull the image. Check that the tag in image: exists and that this "
        "machine can log in to the registry (modelstack:registries, or `docker login`).",
    ),
    ErrorCode.ROUTING_FAILURE: Guidance(
        Remedy.RETRY,
        "The gateway cannot reach these engine containers: they are not on the stack's "
        "network (the message names it). `docker network connect NETWORK CONTAINER` or "
        "`pulumi up --refresh` attaches them again; the other engines keep serving.",
    ),
    ErrorCode.ROLLED_BACK: Guidance(
        Remedy.RECONFIGURE,
        "Flagger rolled the new version back. Only the Kubernetes target hands a canary to "
        "Flagger; on docker, canaryWeight moves by hand.",
    ),
}


def guidance_for(code: ErrorCode, target: str) -> Guidance:
    """The advice for a code, in the words of the target the stack runs on."""
    if target == "docker" and code in DOCKER_GUIDANCE:
        return DOCKER_GUIDANCE[code]
    return GUIDANCE[code]


@dataclass(frozen=True)
class Problem:
    code: ErrorCode
    # What happened, with its evidence (an event message, a log line).
    message: str
    # Where it was seen, e.g. `pod/llama-chat-6d5f8-x7k2p container engine`.
    source: str

    @property
    def status(self) -> DeploymentStatus:
        if self.code.guidance.remedy is Remedy.RECONFIGURE:
            return DeploymentStatus.FAILED
        return DeploymentStatus.ERROR


def problem_status(problems: tuple[Problem, ...]) -> DeploymentStatus | None:
    """FAILED when any problem needs a new configuration, ERROR for the others, else None."""
    if not problems:
        return None
    statuses = {problem.status for problem in problems}
    return (
        DeploymentStatus.FAILED if DeploymentStatus.FAILED in statuses else DeploymentStatus.ERROR
    )


class ConditionType(StrEnum):
    CACHE_READY = "CacheReady"
    RUNTIME_READY = "RuntimeReady"
    ROUTING_READY = "RoutingReady"
    READY = "Ready"
    # True while the slot comes up within its window; False once settled or overdue.
    PROGRESSING = "Progressing"
    # True while the slot serves, but not fully (DEGRADED).
    DEGRADED = "Degraded"


@dataclass(frozen=True)
class Condition:
    type: ConditionType
    status: bool
    reason: str
    message: str


@dataclass(frozen=True)
class Instance:
    name: str
    role: InstanceRole
    status: InstanceStatus
    ready: bool
    restarts: int
    node: str | None
    # Why it has this status, in a few words ("waiting for a node", "loading the model").
    detail: str
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class SlotSetup:
    """What a slot runs, as the plan chose it: what users check a deployment against."""

    engine: str
    image: str
    # As served: bf16, fp8, int4... ("native": the checkpoint's own, GGUF and Ollama).
    precision: str
    # latency | throughput: the engine's tuning.
    profile: str
    # "1 x H100", or "cpu".
    gpus: str
    # The engine's CPU and memory requests.
    cpu: str
    memory: str


@dataclass(frozen=True)
class SlotReport:
    """One workload of a deployment: `main` (rolling) or `blue` / `green`."""

    slot: str
    workload: str
    serving: bool
    status: DeploymentStatus
    desired_replicas: int
    ready_replicas: int
    conditions: tuple[Condition, ...]
    instances: tuple[Instance, ...]
    # Everything wrong with the slot, each distinct problem once.
    problems: tuple[Problem, ...] = ()
    setup: SlotSetup | None = None
    # A progressive canary's analysis, as Flagger's Canary says (None: not progressive).
    canary: CanaryReport | None = None


@dataclass(frozen=True)
class DeploymentReport:
    name: str
    status: DeploymentStatus
    endpoint: str
    serving_slot: str
    hardware: str
    slots: tuple[SlotReport, ...]
    # The route's path prefix, its template resolved ({name}, {labels.KEY}); None: no route.
    route_path: str | None = None
    # With modelstack:debugAccess: how to open a shell next to its engines (debug_commands.py).
    debug_commands: tuple[str, ...] = ()


class Outcome(StrEnum):
    READY = "ready"
    PROGRESSING = "progressing"
    OVERDUE = "overdue"
    DEGRADED = "degraded"
    FAILED = "failed"


_COMING_UP = {DeploymentStatus.REQUESTED, DeploymentStatus.DEPLOYING, DeploymentStatus.INITIALIZING}


@dataclass(frozen=True)
class StackReport:
    stack: str
    target: str
    namespace: str
    context: str | None
    deployments: tuple[DeploymentReport, ...]
    # Deployments with objects in the namespace that the stack file no longer declares.
    unmanaged: tuple[str, ...] = ()
    # Deployments routed to external endpoints: nothing of theirs runs here to report on.
    external: tuple[str, ...] = ()

    @property
    def outcome(self) -> Outcome:
        """Failed first; then anything still within its window; then overdue, degraded."""
        statuses = {deployment.status for deployment in self.deployments}
        if statuses & {DeploymentStatus.FAILED, DeploymentStatus.ERROR}:
            return Outcome.FAILED
        if statuses & _COMING_UP:
            return Outcome.PROGRESSING
        if DeploymentStatus.OVERDUE in statuses:
            return Outcome.OVERDUE
        if DeploymentStatus.DEGRADED in statuses:
            return Outcome.DEGRADED
        return Outcome.READY


# -- what the stack file expects ---------------------------------------------------------


@dataclass(frozen=True)
class ExpectedSlot:
    slot: str
    workload: str
    replicas: int
    serving: bool
    # The loader Job that fills the cache for this slot's model (None: nothing to download).
    loader_job: str | None
    # Instance names the target derives from the plan (docker containers); empty where the
    # target picks them itself (Kubernetes pods).
    instance_names: tuple[str, ...] = ()
    setup: SlotSetup | None = None
    # gpu.nodes > 1: pods per group (a LeaderWorkerSet of groups, not a Deployment).
    group_size: int | None = None


@dataclass(frozen=True)
class ExpectedDeployment:
    name: str
    endpoint: str
    serving_slot: str
    stable_service: str
    hardware: str
    slots: tuple[ExpectedSlot, ...]
    route_path: str | None = None
    # How long a loader may copy the model before Pulumi stops waiting (None: not known).
    loader_window_seconds: int | None = None
    # modelstack:debugAccess (None: off).
    debug_access: DebugAccess | None = None
    # rollout.progressive: the Canary Flagger moves (None: modelstack's own rollout).
    canary: ExpectedCanary | None = None


@dataclass(frozen=True)
class StackExpectation:
    stack: str
    target: str
    namespace: str
    # kubeconfig context; None: the current one.
    context: str | None
    deployments: tuple[ExpectedDeployment, ...]
    # Deployments routed to external endpoints (their route and Backends are declared too).
    external: tuple[str, ...] = ()

    @classmethod
    def from_plan(cls, stack: str, plan: StackPlan) -> StackExpectation:
        names = _planned_instance_names(plan)
        debug_access = (
            DebugAccess(plan.target, plan.namespace, plan.kube_context, plan.debug_access.image)
            if plan.debug_access
            else None
        )
        return cls(
            stack=stack,
            target=plan.target,
            namespace=plan.namespace,
            context=plan.kube_context,
            deployments=tuple(
                ExpectedDeployment(
                    name=deployment.name,
                    endpoint=deployment.endpoint,
                    serving_slot=deployment.serving_slot,
                    stable_service=deployment.stable_service,
                    hardware=deployment.gpu_summary,
                    route_path=deployment.route.path if deployment.route else None,
                    loader_window_seconds=deployment.timeouts.loader_seconds,
                    debug_access=debug_access,
                    canary=ExpectedCanary.of(deployment),
                    slots=tuple(
                        ExpectedSlot(
                            slot=slot.slot,
                            workload=slot.workload_name,
                            replicas=slot.replicas,
                            serving=slot.serving,
                            loader_job=slot.loader_job,
                            instance_names=names.get((deployment.name, slot.workload_name), ()),
                            setup=_setup(slot),
                            group_size=slot.group.size if slot.group else None,
                        )
                        for slot in deployment.slots
                    ),
                )
                for deployment in plan.deployments
            ),
            external=tuple(routed.name for routed in plan.external),
        )


def _setup(slot: SlotPlan) -> SlotSetup:
    return SlotSetup(
        engine=slot.engine.name,
        image=slot.engine.image,
        precision=slot.engine.precision,
        profile=slot.engine.profile,
        gpus=slot.gpu_summary,
        cpu=slot.resources.cpu_request,
        memory=slot.resources.memory_request,
    )


def _planned_instance_names(plan: StackPlan) -> dict[tuple[str, str], tuple[str, ...]]:
    """Docker engine containers by deployment and workload: the names carry a hash of what
    they run, so a container under another name runs an earlier configuration."""
    if plan.target != "docker":
        return {}
    from components.docker.containers import engine_containers  # only docker stacks need it

    names: dict[tuple[str, str], tuple[str, ...]] = {}
    for deployment in plan.deployments:
        for container in engine_containers(plan.namespace, deployment):
            key = (deployment.name, container.slot.workload_name)
            names[key] = (*names.get(key, ()), container.container_name)
    return names


# -- the reader contract -------------------------------------------------------------------


class StatusReader(Protocol):
    """Observes one target; one implementation per target (kubernetes_reader.py, ...)."""

    def read(self, expectation: StackExpectation) -> StackReport: ...


class ReaderSetupError(Exception):
    """The reader cannot even start: no kubeconfig, unknown context. The user must fix it."""


class StatusUnavailable(Exception):
    """The target did not answer (unreachable, forbidden); a later try may succeed."""


# -- JSON for pipelines ---------------------------------------------------------------------


def report_as_json(report: StackReport) -> dict[str, Any]:
    """The report as plain data with camelCase keys, like the stack outputs."""
    return {
        "stack": report.stack,
        "target": report.target,
        "namespace": report.namespace,
        "context": report.context,
        "outcome": report.outcome.value,
        "deployments": [
            _deployment_json(deployment, report.target) for deployment in report.deployments
        ],
        "unmanaged": list(report.unmanaged),
        "external": list(report.external),
    }


def _deployment_json(deployment: DeploymentReport, target: str) -> dict[str, Any]:
    return {
        "name": deployment.name,
        "status": deployment.status.value,
        "endpoint": deployment.endpoint,
        "servingSlot": deployment.serving_slot,
        "hardware": deployment.hardware,
        "routePath": deployment.route_path,
        "debugCommands": list(deployment.debug_commands),
        "slots": [_slot_json(slot, target) for slot in deployment.slots],
    }


def _slot_json(slot: SlotReport, target: str) -> dict[str, Any]:
    return {
        "slot": slot.slot,
        "workload": slot.workload,
        "serving": slot.serving,
        "status": slot.status.value,
        "desiredReplicas": slot.desired_replicas,
        "readyReplicas": slot.ready_replicas,
        "setup": _setup_json(slot.setup),
        "conditions": [
            {
                "type": condition.type.value,
                # Kubernetes spells condition statuses as strings.
                "status": "True" if condition.status else "False",
                "reason": condition.reason,
                "message": condition.message,
            }
            for condition in slot.conditions
        ],
        "instances": [
            {
                "name": instance.name,
                "role": instance.role.value,
                "status": instance.status.value,
                "ready": instance.ready,
                "restarts": instance.restarts,
                "node": instance.node,
                "detail": instance.detail,
                "errorCodes": [problem.code.value for problem in instance.problems],
            }
            for instance in slot.instances
        ],
        "problems": [_problem_json(problem, target) for problem in slot.problems],
        "canary": canary_json(slot.canary),
    }


def _setup_json(setup: SlotSetup | None) -> dict[str, str] | None:
    if setup is None:
        return None
    return {
        "engine": setup.engine,
        "image": setup.image,
        "precision": setup.precision,
        "profile": setup.profile,
        "gpus": setup.gpus,
        "cpu": setup.cpu,
        "memory": setup.memory,
    }


def _problem_json(problem: Problem, target: str) -> dict[str, Any]:
    guidance = guidance_for(problem.code, target)
    return {
        "code": problem.code.value,
        "message": problem.message,
        "source": problem.source,
        "remedy": guidance.remedy.value,
        "guidance": guidance.advice,
    }
