"""The plan's shape: what every target receives, decided and frozen."""

from __future__ import annotations

from dataclasses import dataclass, field

from components.catalog.engines import Hardware, ModelFormat
from components.catalog.engines.request_metrics import RequestMetrics
from components.catalog.gpus import GpuType
from components.environments import EnvironmentDefaults
from components.planning.autoscaling_plan import AutoscalingPlan
from components.planning.debug_access import DebugAccessPlan
from components.planning.inference_routing_plan import InferenceRoutingPlan
from components.planning.loaders import LoaderPlan
from components.planning.model_location import ModelLocation
from components.planning.placement import Placement
from components.planning.resources import ResourceProfile
from components.planning.runtime_adapters_plan import RuntimeAdaptersPlan
from components.planning.stack_parts import DockerStackPart, KubernetesStackPart
from components.planning.target_parts import DockerPart, KubernetesPart
from components.planning.timeouts import TimeoutPlan


@dataclass(frozen=True)
class ModelPlan:
    location: ModelLocation
    format: ModelFormat
    parameters_b: float | None
    served_name: str
    precision: str


@dataclass(frozen=True)
class AdapterPlan:
    name: str
    location: ModelLocation
    # The loader Job that fills it (None: already on a claim, pvc://).
    loader_job: str | None
    # What a request's `model` names to be served by it (the engine's rule: vLLM the name,
    # SGLang `<served name>:<name>`); the shared endpoint routes and lists this.
    model_id: str


@dataclass(frozen=True)
class EnginePlan:
    name: str
    # What `/v1/models` lists for the served name (Ollama adds `:latest`).
    model_id: str
    image: str
    # As served: bf16, fp8, fp4... ("native": the model file fixes it, GGUF and Ollama).
    precision: str
    # latency | throughput: how the engine is tuned.
    profile: str
    command: tuple[str, ...] | None
    args: tuple[str, ...]
    env: dict[str, str]
    port: int
    health_path: str
    metrics_path: str | None
    shm_size: str | None
    model_read_only: bool
    # Checks the engine from inside its container (Docker health checks).
    health_command: tuple[str, ...]
    # Besides HOME and /tmp: where the image writes (emptyDirs under a read-only root).
    writable_dirs: tuple[str, ...] = ()
    # The Prometheus series the engine exports about requests (None: no metrics).
    request_metrics: RequestMetrics | None = None
    # Env values read in the cluster: name -> ("secretKeyRef" | "configMapKeyRef", object, key).
    env_refs: dict[str, tuple[str, str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupPlan:
    """A slot whose model spans several nodes: each replica is a group of `size` pods, one
    leader (which serves) and workers (a LeaderWorkerSet on Kubernetes)."""

    size: int
    # Appended to the engine's args on the leader, and on the workers. Their `$(LWS_...)`
    # references are for Kubernetes to expand (catalog/multi_node.py); nothing else is.
    leader_args: tuple[str, ...]
    worker_args: tuple[str, ...]


@dataclass(frozen=True)
class SlotPlan:
    """One workload: a slot (`main`, `blue`, `green`) in a pool of one kind of hardware."""

    slot: str
    # None when the deployment declares no pools: names then carry no pool suffix.
    pool: str | None
    workload_name: str
    replicas: int
    # Share of the deployment's requests this slot receives (blue-green: 100 or 0).
    traffic_percent: int
    model: ModelPlan
    engine: EnginePlan
    # The loader Job that must complete before this slot's pods start (None: no download).
    loader_job: str | None
    hardware: Hardware
    gpu: GpuType | None
    gpu_count: int
    placement: Placement | None
    resources: ResourceProfile
    weight: int = 1
    priority: int = 0
    # Kubernetes: the autoscaler that owns this workload's replica count (then `replicas` is
    # only the floor, and the Deployment carries no spec.replicas).
    autoscaling: AutoscalingPlan | None = None
    # gpu.nodes > 1: `replicas` counts groups (None: one pod per replica).
    group: GroupPlan | None = None

    @property
    def serving(self) -> bool:
        return self.traffic_percent > 0

    @property
    def gpu_summary(self) -> str:
        if self.gpu is None:
            return "cpu"
        nodes = f" x {self.group.size} nodes" if self.group else ""
        return f"{self.gpu_count} x {self.gpu.name}{nodes}"


@dataclass(frozen=True)
class ProbePlan:
    path: str
    startup_failure_threshold: int
    period_seconds: int = 10
    # How long one check may take (startup and readiness probes, Docker's health check).
    timeout_seconds: int = 5
    readiness_failure_threshold: int = 3
    liveness_period_seconds: int = 30
    liveness_failure_threshold: int = 3
    liveness_timeout_seconds: int = 10


@dataclass(frozen=True)
class CachePlan:
    claim_name: str
    size: str
    storage_class: str | None
    access_mode: str
    protect: bool


@dataclass(frozen=True)
class HealthCheckPlan:
    path: str
    interval_seconds: int
    timeout_seconds: int
    unhealthy_threshold: int
    healthy_threshold: int


@dataclass(frozen=True)
class LoadBalancerPlan:
    algorithm: str
    # None, "source-ip" or "cookie".
    stickiness: str | None
    health_check: HealthCheckPlan
    # The stack file set health-check values of its own (not only the engine's defaults).
    health_check_customized: bool = False


@dataclass(frozen=True)
class BackendRef:
    # Kubernetes: a Service. Docker: a workload, whose every container is one nginx server.
    service: str
    # Kubernetes: the Service's share of the route. Docker: each server's nginx weight.
    weight: int
    # Receives traffic only when the primary backends are unhealthy (Envoy fallback,
    # nginx backup).
    fallback: bool = False
    # Another namespace's Service (the KEDA HTTP add-on's interceptor), and its port.
    namespace: str | None = None
    port: int | None = None
    # An InferencePool of that name instead of a Service (loadBalancer inference_aware).
    inference_pool: bool = False
    # An Envoy Gateway Backend of that name for an external endpoint (ExternalPlan).
    external: bool = False


@dataclass(frozen=True)
class TrafficPlan:
    # "gateway" (HTTPRoute), "ingress", "nginx" (the docker gateway), or None (in-cluster
    # Services only).
    via: str | None
    backends: tuple[BackendRef, ...]
    # Pool Services to create: name -> pool.
    pool_services: dict[str, str]
    # Attach an Envoy Gateway BackendTrafficPolicy to the route.
    envoy_policy: bool
    # Plain-Kubernetes sticky sessions: Service sessionAffinity ClientIP.
    service_affinity: bool
    gateway_name: str | None = None
    gateway_namespace: str | None = None
    gateway_scheme: str = "https"
    ingress_class: str | None = None
    # Where Pulumi checks the deployment answers after `pulumi up` (None: not reachable).
    public_url: str | None = None
    # Scale to zero: the Host header the interceptor routes by (the route sets it).
    host_rewrite: str | None = None
    # Docker: how nginx picks a server (round_robin | least_connections | ip_hash).
    balancing: str | None = None
    # inference_aware: the InferencePools and endpoint pickers the route sends through.
    inference: InferenceRoutingPlan | None = None
    # What the route's path prefix becomes for the backends: "/", or an external service's
    # prefix before /v1.
    path_rewrite: str = "/"


@dataclass(frozen=True)
class RoutePlan:
    path: str
    hosts: tuple[str, ...]
    timeout_seconds: int
    check: bool = True


@dataclass(frozen=True)
class ExternalEndpointPlan:
    """One existing OpenAI-compatible address (external.endpoints[i]), as its Backend."""

    backend: str
    url: str
    scheme: str
    host: str
    port: int
    # An IPv4 address (Backend `ip`) rather than a DNS name (Backend `fqdn`).
    is_ip: bool
    weight: int
    priority: int
    # A backup: receives requests only when the endpoints of the lowest priority fail.
    fallback: bool


@dataclass(frozen=True)
class ExternalPlan:
    """A deployment that runs nothing: its route balances over existing services."""

    name: str
    description: str | None
    namespace: str
    tags: dict[str, str]
    route: RoutePlan
    load_balancer: LoadBalancerPlan
    traffic: TrafficPlan
    endpoints: tuple[ExternalEndpointPlan, ...]
    # The URL clients call (the gateway's, when the route has a host).
    endpoint: str
    # How long the connectivity check after `pulumi up` waits for the route to answer.
    check_timeout_seconds: int = 300
    # The route's policy reads it (a stopped deployment's 503 answer): always running.
    state: str = "running"


@dataclass(frozen=True)
class DeploymentPlan:
    name: str
    description: str | None
    environment: EnvironmentDefaults
    namespace: str
    strategy: str
    serving_slot: str
    # One entry per slot and pool, slots in order (main | blue, green), pools in spec order.
    slots: tuple[SlotPlan, ...]
    probes: ProbePlan
    cache: CachePlan | None
    loaders: tuple[LoaderPlan, ...]
    # pvc:// sources: claims the user owns, mounted read-only.
    external_claims: tuple[str, ...]
    hf_token_secret: str | None
    stable_service: str
    service_port: int
    timeouts: TimeoutPlan
    load_balancer: LoadBalancerPlan
    route: RoutePlan | None
    endpoint: str
    # running | stopped (no engine pods; cache, configuration and route kept)
    state: str = "running"
    tags: dict[str, str] = field(default_factory=dict)
    # How requests reach the deployment (None: no route on Kubernetes).
    traffic: TrafficPlan | None = None
    # LoRA adapters served with the model (every slot); the engine waits for them too.
    adapters: tuple[AdapterPlan, ...] = ()
    # Set when the engine loads the adapters while it runs (`adapterLoading.mode: runtime`).
    runtime_adapters: RuntimeAdaptersPlan | None = None
    # What only one target reads: exactly one of the two is set, by the stack's target.
    kubernetes: KubernetesPart | None = None
    docker: DockerPart | None = None

    @property
    def on_kubernetes(self) -> KubernetesPart:
        """The Kubernetes part; the Kubernetes target only ever receives plans with one."""
        assert self.kubernetes is not None, f"{self.name} was planned for docker"
        return self.kubernetes

    @property
    def on_docker(self) -> DockerPart:
        """The docker part; the docker target only ever receives plans with one."""
        assert self.docker is not None, f"{self.name} was planned for Kubernetes"
        return self.docker

    @property
    def serving(self) -> SlotPlan:
        """The first workload of the active slot (what outputs describe)."""
        return next(slot for slot in self.slots if slot.slot == self.serving_slot)

    @property
    def gpu_summary(self) -> str:
        summaries = dict.fromkeys(s.gpu_summary for s in self.slots if s.slot == self.serving_slot)
        return " + ".join(summaries)

    @property
    def has_pools(self) -> bool:
        return any(slot.pool for slot in self.slots)


@dataclass(frozen=True)
class RegistryPlan:
    name: str
    server: str | None
    username: str | None
    # The pull Secret pods reference: created by modelstack, or existing in the namespace.
    secret_name: str
    created: bool
    # `pulumi destroy` refuses the pull Secret modelstack created.
    protect: bool = False


@dataclass(frozen=True)
class StackPlan:
    environment: EnvironmentDefaults
    target: str
    namespace: str
    deployments: tuple[DeploymentPlan, ...]
    registries: tuple[RegistryPlan, ...] = ()
    # Deployments routed to existing services (`external`): no engines, cache or slots.
    external: tuple[ExternalPlan, ...] = ()
    # modelstack:debugAccess (None: off): status prints how to reach the engines.
    debug_access: DebugAccessPlan | None = None
    # What only one target reads: exactly one of the two is set, by the stack's target.
    kubernetes: KubernetesStackPart | None = None
    docker: DockerStackPart | None = None

    @property
    def on_kubernetes(self) -> KubernetesStackPart:
        assert self.kubernetes is not None, "the stack was planned for docker"
        return self.kubernetes

    @property
    def on_docker(self) -> DockerStackPart:
        assert self.docker is not None, "the stack was planned for Kubernetes"
        return self.docker

    @property
    def kube_context(self) -> str | None:
        """The kubeconfig context a Kubernetes stack names (None: the current one, or docker)."""
        return self.kubernetes.kube_context if self.kubernetes else None
