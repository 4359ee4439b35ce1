"""What each target can do, as data: one profile per target, each refusal beside its capability.

Planning asks the profile (`ctx.profile.autoscaling`) instead of comparing target names, and
`target_support.py` reports a refused capability's own message. A new capability is a field
here, a value per profile, and the step that reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class _Settings(Protocol):
    @property
    def namespace(self) -> str: ...


class StackSettings(Protocol):
    """What a profile reads of the stack spec (the spec validates with these profiles)."""

    @property
    def kubernetes(self) -> _Settings: ...

    @property
    def docker(self) -> _Settings: ...


@dataclass(frozen=True)
class Capability:
    """Something a stack file may ask for: available, or refused with what to do instead."""

    # None: the target can do it.
    refusal: str | None = None

    def __bool__(self) -> bool:
        return self.refusal is None


SUPPORTED = Capability()


@dataclass(frozen=True)
class TargetProfile:
    name: str
    # The stack's namespace: a Kubernetes namespace, or the prefix of Docker names.
    namespace_of: Callable[[StackSettings], str]
    # The target creates Kubernetes objects: plans carry a KubernetesPart (else a DockerPart).
    kubernetes_objects: bool
    # modelstack runs the load balancer in front of every deployment (nginx on docker): each
    # deployment gets a route (by default /{name}) and a URL on the host.
    own_gateway: bool
    # A ServiceMonitor and a dashboard per deployment (kubernetes.monitoring).
    monitoring_objects: bool
    # NetworkPolicies around engines and loaders (kubernetes.networkPolicies).
    network_policies: bool
    autoscaling: Capability
    placement: Capability
    env_references: Capability
    patches: Capability
    cookie_stickiness: Capability
    storage_classes: Capability
    # rollout.maxSurge and rollout.maxUnavailable.
    surge_settings: Capability
    # A deployment's imagePullSecrets.
    pull_secrets: Capability
    # registries[].existingSecret: a pull Secret already in the namespace.
    existing_pull_secrets: Capability
    # hfToken: {secretKeyRef: ...}, a Secret already in the cluster.
    secret_references: Capability
    # debugAccess.users: RBAC subjects granted a shell next to the engines.
    debug_subjects: Capability
    engine_api_keys: Capability
    # loadBalancer.algorithm inference_aware: InferencePools and endpoint pickers.
    inference_routing: Capability
    # gpu.nodes > 1: one model over a group of nodes (a LeaderWorkerSet).
    multi_node: Capability
    # rollout.progressive: a Flagger Canary moves the weight (planning/progressive_delivery.py).
    progressive_delivery: Capability


def _kubernetes_namespace(stack: StackSettings) -> str:
    return stack.kubernetes.namespace


def _docker_namespace(stack: StackSettings) -> str:
    return stack.docker.namespace


KUBERNETES = TargetProfile(
    name="kubernetes",
    namespace_of=_kubernetes_namespace,
    kubernetes_objects=True,
    own_gateway=False,
    monitoring_objects=True,
    network_policies=True,
    autoscaling=SUPPORTED,
    placement=SUPPORTED,
    env_references=SUPPORTED,
    patches=SUPPORTED,
    cookie_stickiness=SUPPORTED,
    storage_classes=SUPPORTED,
    surge_settings=SUPPORTED,
    pull_secrets=SUPPORTED,
    existing_pull_secrets=SUPPORTED,
    secret_references=SUPPORTED,
    debug_subjects=SUPPORTED,
    engine_api_keys=SUPPORTED,
    inference_routing=SUPPORTED,
    multi_node=SUPPORTED,
    progressive_delivery=SUPPORTED,
)

DOCKER = TargetProfile(
    name="docker",
    namespace_of=_docker_namespace,
    kubernetes_objects=False,
    own_gateway=True,
    monitoring_objects=False,
    network_policies=False,
    autoscaling=Capability(
        "is not available on the docker target: set replicas (and pools) instead"
    ),
    placement=Capability("placement applies to Kubernetes nodes only"),
    env_references=Capability(
        "Secret and ConfigMap references need Kubernetes: on the docker target give a literal value"
    ),
    patches=Capability(
        "patches are JSON patches of Kubernetes objects, and docker containers are not: "
        "remove them on the docker target"
    ),
    cookie_stickiness=Capability(
        "nginx open source cannot pin clients by cookie on the docker target: use "
        "stickySessions: true (by client address)"
    ),
    storage_classes=Capability(
        "a Docker volume has no storage class on the docker target: remove it"
    ),
    surge_settings=Capability(
        "the docker target starts every new container and waits until healthy before the "
        "gateway switches and old ones go: remove it"
    ),
    pull_secrets=Capability(
        "pull Secrets are Kubernetes objects: on the docker target use modelstack:registries "
        "(or `docker login`)"
    ),
    existing_pull_secrets=Capability(
        "a Kubernetes Secret means nothing to Docker: give username and server (Docker also "
        "uses your own `docker login`)"
    ),
    secret_references=Capability(
        "secretKeyRef reads a Kubernetes Secret: on docker set the token with "
        "`pulumi config set --secret hfToken <token>`"
    ),
    debug_subjects=Capability(
        "the docker target grants nothing to anyone: whoever may use the Docker daemon can "
        "already `docker exec`; remove users (debugAccess alone makes status print the commands)"
    ),
    engine_api_keys=Capability("engine API keys is not supported yet on docker"),
    inference_routing=Capability(
        "inference_aware needs the Gateway API Inference Extension on Kubernetes; the docker "
        "gateway (nginx) cannot read the engines' queue and KV-cache metrics: use "
        "least_connections"
    ),
    multi_node=Capability(
        "gpu.nodes spreads one model over several machines, and the docker target runs on one "
        "host: use gpu.nodes: 1 with at most the host's GPUs, or the Kubernetes target"
    ),
    progressive_delivery=Capability(
        "progressive hands the canary to Flagger, a Kubernetes controller: on the docker target "
        "set canaryWeight and move it yourself"
    ),
)

TARGET_PROFILES: dict[str, TargetProfile] = {p.name: p for p in (KUBERNETES, DOCKER)}


def target_profile(target: str) -> TargetProfile:
    """The one lookup of a target's profile (the spec allows only the targets listed here)."""
    return TARGET_PROFILES[target]
