"""The stack file's `modelstack:` namespace as a pydantic model: what users may write.

Field names are the YAML contract (camelCase aliases); Python code reads snake_case.
Structural rules live here (types, ranges, DNS names, quantities, unknown keys); rules
that need the catalogs (GPU types, engine compatibility, memory fit) live in the plan.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    model_validator,
)

from components.catalog.gpu_label_schemes import GpuLabels, gpu_labels_problem
from components.planning.target_profiles import target_profile
from components.quantities import parse_parameter_count, parse_quantity
from components.spec_adapters import AdapterLoadingSpec, AdapterSpec
from components.spec_affinity import check_affinity
from components.spec_alerts import AlertsSpec
from components.spec_autoscaling import AutoscalingSpec
from components.spec_base import FieldError, SpecModel
from components.spec_credentials import credential_in, looks_secret
from components.spec_debug_access import DebugAccessSpec
from components.spec_external import ExternalFields
from components.spec_gpu import GpuSpec
from components.spec_identifiers import (
    BIND_ADDRESS,
    CONFIG_KEY,
    DNS_1035_LABEL,
    DNS_1123_LABEL,
    DNS_1123_SUBDOMAIN,
    ENV_NAME,
    GRAFANA_LABEL,
    KUBE_CONTEXT,
    LABEL_NAME,
    LABEL_VALUE,
    PLAIN_NAME,
    POOL_NAME,
    PROMETHEUS_URL,
    REGISTRY_NAME,
    REGISTRY_SERVER,
    SERVED_NAME,
    SURGE_PERCENT,
    TOLERATION_KEY,
    UNAVAILABLE_PERCENT,
    USERNAME,
    IdentifierRule,
    printable_text,
    shown,
)
from components.spec_images import IMAGE
from components.spec_patches import PatchSpec
from components.spec_progressive import ProgressiveSpec, progressive_conflict
from components.spec_shared_endpoint import DockerSharedEndpointSpec, SharedEndpointSpec
from components.spec_sources import check_revision, check_source
from components.spec_traffic import LoadBalancerSpec, RouteSpec

# Deployment names become Kubernetes object names with suffixes such as
# "-green-fetch-1a2b3c4d" and Service names, which must be DNS-1035 labels.
MAX_DEPLOYMENT_NAME = 40

# Environment variables the plan owns: the HF token must come from `hfToken`
# (a Pulumi secret), never from a literal value in the stack file.
RESERVED_ENV = frozenset({"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"})


def _dns_label(value: str) -> str:
    if len(value) > MAX_DEPLOYMENT_NAME:
        raise ValueError(
            f"{shown(value)} is {len(value)} characters; at most {MAX_DEPLOYMENT_NAME} "
            "(it prefixes the Kubernetes object names)"
        )
    return DNS_1035_LABEL.check(value)


def _quantity(value: object) -> str:
    text = str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
    if not isinstance(text, str):
        raise ValueError("must be a Kubernetes quantity such as '8', '500m' or '64Gi'")
    parse_quantity(text)  # raises ValueError with the reason
    return text


def _positive_quantity(value: object) -> str:
    text = _quantity(value)
    if parse_quantity(text) <= 0:
        raise ValueError(f"'{text}' must be greater than zero")
    return text


def _env_value(value: object) -> object:
    # YAML turns `1` and `true` into numbers and booleans; Kubernetes wants strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _env(values: dict[str, object]) -> dict[str, object]:
    for name, value in values.items():
        problem = ENV_NAME.problem(name)
        if problem:
            raise FieldError(name, problem)
        if name in RESERVED_ENV:
            raise FieldError(
                name,
                "must not be a literal value: set the token as a secret with "
                "`pulumi config set --secret hfToken <token>`",
            )
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            raise FieldError(name, "a NUL character cannot be passed to a process")
        if looks_secret(name):
            raise FieldError(
                name,
                "looks like a credential: a literal value would sit in plain text in the "
                "stack file, the state and the pod spec; use {secretKeyRef: {name, key}}",
            )
    return values


def _engine_argument(value: str) -> str:
    if not value.isprintable():
        raise ValueError(f"{shown(value)} has control characters (newline, tab, NUL...)")
    return value


class KeyRef(SpecModel):
    name: Annotated[str, AfterValidator(DNS_1123_SUBDOMAIN.check)]
    key: Annotated[str, AfterValidator(CONFIG_KEY.check)]


class EnvSource(SpecModel):
    """An env value read from a Secret or ConfigMap in the cluster (Kubernetes only)."""

    secret_key_ref: KeyRef | None = None
    config_map_key_ref: KeyRef | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> EnvSource:
        if (self.secret_key_ref is None) == (self.config_map_key_ref is None):
            raise ValueError("give exactly one of secretKeyRef or configMapKeyRef")
        return self


def _labels(values: dict[str, str]) -> dict[str, str]:
    """Tags become labels on our objects: system prefixes are not ours to set."""
    _selector_labels(values)
    for key in values:
        if _reserved_prefix(key.rpartition("/")[0]):
            raise FieldError(key, "this label prefix is reserved for the system")
    return values


def _selector_labels(values: dict[str, str]) -> dict[str, str]:
    """Labels to select nodes by: well-known ones (topology.kubernetes.io/zone) included."""
    for key, value in values.items():
        prefix, _, name = key.rpartition("/")
        if (prefix and not DNS_1123_SUBDOMAIN.matches(prefix)) or not LABEL_NAME.matches(name):
            raise FieldError(key, f"{shown(key)} is not a valid Kubernetes label key")
        problem = LABEL_VALUE.problem(value)
        if problem:
            raise FieldError(key, problem)
    return values


def _reserved_prefix(prefix: str) -> bool:
    # Kubernetes reserves kubernetes.io and k8s.io (and their subdomains); modelstack.io is ours.
    return any(
        prefix == domain or prefix.endswith("." + domain)
        for domain in ("kubernetes.io", "k8s.io", "modelstack.io")
    )


DeploymentName = Annotated[str, AfterValidator(_dns_label)]
Namespace = Annotated[str, AfterValidator(DNS_1123_LABEL.check)]
PositiveQuantity = Annotated[str, BeforeValidator(_positive_quantity)]
Image = Annotated[str, AfterValidator(IMAGE.check)]
EnvValue = Annotated[str, BeforeValidator(_env_value)]
EnvMap = Annotated[dict[str, EnvValue | EnvSource], AfterValidator(_env)]
Tags = Annotated[dict[str, EnvValue], AfterValidator(_labels)]
NodeLabels = Annotated[dict[str, EnvValue], AfterValidator(_selector_labels)]
ModelSource = Annotated[str, AfterValidator(check_source)]
Revision = Annotated[str, AfterValidator(check_revision)]
ObjectName = Annotated[str, AfterValidator(DNS_1123_LABEL.check)]
# "8B", "70B", "1.5B", "500M" or a plain number of billions.
Parameters = Annotated[
    str,
    BeforeValidator(lambda v: str(v) if isinstance(v, int | float) else v),
    AfterValidator(lambda v: parse_parameter_count(v) and v),
]

Environment = Literal["dev", "staging", "prod"]
Target = Literal["kubernetes", "docker"]
Cloud = Literal["gke", "eks", "aks", "generic"]
EngineName = Literal["auto", "vllm", "sglang", "tgi", "llamacpp", "ollama"]
# fp4, int8, int4: a checkpoint published quantized (NVFP4, AWQ, GPTQ); engines load it as is.
Precision = Literal["auto", "fp32", "bf16", "fp16", "fp8", "fp4", "int8", "int4"]
Profile = Literal["latency", "throughput"]
ModelFormat = Literal["safetensors", "gguf"]
SlotName = Literal["blue", "green"]
AccessMode = Literal["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"]
# Kubernetes allows any surge percentage but at most 100% unavailable.


def _count_or_percent(percent: IdentifierRule) -> BeforeValidator:
    """A whole number of pods or a percentage: one check, one message (not one per type)."""

    def check(value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and percent.matches(value):
            return value
        raise ValueError(f"must be a whole number of pods or {percent.description}")

    return BeforeValidator(check)


SurgeValue = Annotated[int | str, _count_or_percent(SURGE_PERCENT)]
UnavailableValue = Annotated[int | str, _count_or_percent(UNAVAILABLE_PERCENT)]


def _prometheus_url(value: str) -> str:
    if credential_in(value):
        raise ValueError(
            "credentials do not belong in the Prometheus URL: it sits in plain text in the "
            "stack file and in every ScaledObject"
        )
    return PROMETHEUS_URL.check(value)


class GatewayRef(SpecModel):
    """The Gateway API Gateway that routes attach to (shared, owned by the platform)."""

    name: ObjectName
    namespace: Namespace
    # envoy-gateway: load-balancing algorithms, health checks, retries and failover through
    # BackendTrafficPolicy and Backend. standard: any Gateway API implementation (weights only).
    implementation: Literal["envoy-gateway", "standard"] = "envoy-gateway"
    # How clients reach the gateway's listeners, for the post-deploy endpoint check.
    scheme: Literal["http", "https"] = "https"
    # One OpenAI base URL for every model of the stack (envoy-gateway only).
    shared_endpoint: SharedEndpointSpec | None = None


class MonitoringSettings(SpecModel):
    """Prometheus Operator and Grafana, where the cluster has them."""

    # A ServiceMonitor and a Grafana dashboard per deployment (needs the operator's CRDs).
    enabled: bool = False
    # Labels your Prometheus selects ServiceMonitors by (kube-prometheus-stack: release).
    service_monitor_labels: Tags = Field(default_factory=dict)
    # The label the Grafana sidecar watches ConfigMaps for.
    dashboard_label: Annotated[str, AfterValidator(GRAFANA_LABEL.check)] = "grafana_dashboard"
    scrape_interval_seconds: Annotated[int, Field(ge=5, le=300)] = 15
    alerts: AlertsSpec = Field(default_factory=AlertsSpec)


class IngressSettings(SpecModel):
    """For clusters without Gateway API: routes become Ingresses of this class."""

    class_name: ObjectName


class KedaHttpAddOnSettings(SpecModel):
    """Where the KEDA HTTP add-on runs (Helm chart kedacore/keda-add-ons-http): scale to zero."""

    namespace: Namespace = "keda"


class KubernetesSettings(SpecModel):
    namespace: Namespace = "modelstack"
    create_namespace: bool = False
    cloud: Cloud = "generic"
    # Which node labels name the GPU (components/catalog/gpu_label_schemes.py); None: the cloud's.
    gpu_labels: GpuLabels | None = None
    gateway: GatewayRef | None = None
    ingress: IngressSettings | None = None
    # NetworkPolicies: engines accept traffic only from the gateway's namespace, the
    # monitoring namespace and these; loader Jobs may reach the model source.
    network_policies: bool = True
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    monitoring_namespace: Namespace = "monitoring"
    allowed_namespaces: list[Namespace] = Field(default_factory=list)
    # Read by autoscaling on request metrics.
    prometheus: Annotated[str, AfterValidator(_prometheus_url)] | None = None
    keda_http_add_on: KedaHttpAddOnSettings = Field(default_factory=KedaHttpAddOnSettings)
    context: Annotated[str, AfterValidator(KUBE_CONTEXT.check)] | None = None

    @model_validator(mode="after")
    def _gpu_labels(self) -> KubernetesSettings:
        problem = gpu_labels_problem(self.cloud, self.gpu_labels)
        if problem:
            raise FieldError("gpuLabels", problem)
        return self


class DockerSettings(SpecModel):
    # Prefix of container, network and volume names: keeps stacks on one machine apart.
    namespace: Namespace = "modelstack"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    bind_address: Annotated[str, AfterValidator(BIND_ADDRESS.check)] = "127.0.0.1"
    # One OpenAI base URL for every model of the stack, routed by the body's `model`.
    shared_endpoint: DockerSharedEndpointSpec | None = None


class ModelSpec(SpecModel):
    source: ModelSource
    format: ModelFormat | None = None
    parameters: Parameters | None = None
    # Hugging Face branch, tag or commit; hf:// sources default to `main`.
    revision: Revision | None = None
    served_name: Annotated[str, AfterValidator(SERVED_NAME.check)] | None = None
    # num_attention_heads from config.json: confirms a GPU count that is not a power of two.
    attention_heads: Annotated[int, Field(ge=1)] | None = None


class ModelOverride(SpecModel):
    """What a slot may change of the model: everything but the served name."""

    source: ModelSource | None = None
    format: ModelFormat | None = None
    parameters: Parameters | None = None
    revision: Revision | None = None


class ResourceAmounts(SpecModel):
    cpu: PositiveQuantity | None = None
    memory: PositiveQuantity | None = None


class ResourcesSpec(SpecModel):
    """`cpu`/`memory` are shorthand for equal requests and limits (Guaranteed QoS).

    `requests` is what the scheduler reserves, `limits` the cap: a container above its
    memory limit is OOM-killed, above its CPU limit throttled.
    """

    cpu: PositiveQuantity | None = None
    memory: PositiveQuantity | None = None
    requests: ResourceAmounts | None = None
    limits: ResourceAmounts | None = None

    @model_validator(mode="after")
    def _shorthand_or_explicit(self) -> ResourcesSpec:
        for key in ("cpu", "memory"):
            explicit = [
                part for part in (self.requests, self.limits) if part and getattr(part, key)
            ]
            if getattr(self, key) is not None and explicit:
                raise FieldError(
                    key, f"{key} sets both request and limit: drop it or requests/limits.{key}"
                )
            request = self.requests and getattr(self.requests, key)
            limit = self.limits and getattr(self.limits, key)
            if request and limit and parse_quantity(request) > parse_quantity(limit):
                raise FieldError("requests", f"{key} request {request} is above its limit {limit}")
        return self

    def amount(self, kind: str, key: str) -> str | None:
        """The request or limit for cpu/memory, from the shorthand or the explicit form."""
        shorthand = getattr(self, key)
        part = self.requests if kind == "requests" else self.limits
        return shorthand or (getattr(part, key) if part else None)


class TolerationSpec(SpecModel):
    key: Annotated[str, AfterValidator(TOLERATION_KEY.check)] | None = None
    operator: Literal["Exists", "Equal"] = "Equal"
    value: Annotated[str, AfterValidator(LABEL_VALUE.check)] | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None


class PlacementSpec(SpecModel):
    """Where engine pods may run beyond the GPU catalog's labels (Kubernetes only)."""

    # The cloud's node pool (GKE node pool, Karpenter NodePool on EKS, AKS agent pool).
    node_group: Annotated[str, AfterValidator(PLAIN_NAME.check)] | None = None
    node_selector: NodeLabels = Field(default_factory=dict)
    capacity: Literal["spot", "on-demand"] | None = None
    tolerations: list[TolerationSpec] = Field(default_factory=list)
    # A Kubernetes affinity object, merged with the GPU's node requirements.
    affinity: Annotated[dict[str, object], AfterValidator(check_affinity)] | None = None
    runtime_class: ObjectName | None = None


class CacheSpec(SpecModel):
    size: PositiveQuantity | None = None
    storage_class: ObjectName | None = None
    access_mode: AccessMode = "ReadWriteMany"


class SlotSpec(SpecModel):
    model: ModelOverride | None = None
    image: Image | None = None
    env: EnvMap = Field(default_factory=dict)


class RolloutSpec(SpecModel):
    strategy: Literal["rolling", "blue-green", "canary"] = "rolling"
    # blue-green: the slot that serves; canary: the stable slot (the other is the candidate).
    active: SlotName | None = None
    idle: Literal["keep", "scale-to-zero"] = "keep"
    slots: dict[SlotName, SlotSpec] = Field(default_factory=dict)
    # canary: percent of requests to the candidate slot.
    canary_weight: Annotated[int, Field(ge=0, le=100)] | None = None
    max_surge: SurgeValue | None = None
    max_unavailable: UnavailableValue | None = None
    # canary: Flagger moves the weight through these steps (spec_progressive.py).
    progressive: ProgressiveSpec | None = None

    @model_validator(mode="after")
    def _strategy_fields(self) -> RolloutSpec:
        if self.progressive is not None:
            args = (self.strategy, self.active, self.slots, self.canary_weight)
            if conflict := progressive_conflict(*args):
                raise FieldError(*conflict)
        two_slots = self.strategy in ("blue-green", "canary") and self.progressive is None
        if two_slots and self.active is None:
            raise FieldError("active", f"required for {self.strategy}: `active: blue` or `green`")
        if not two_slots and self.active is not None:
            raise FieldError("active", "applies to strategies blue-green and canary only")
        if not two_slots and self.slots:
            raise FieldError("slots", "apply to strategies blue-green and canary only")
        if two_slots and self.strategy == "canary" and self.canary_weight is None:
            raise FieldError("canaryWeight", "required for canary: percent to the candidate slot")
        if self.strategy != "canary" and self.canary_weight is not None:
            raise FieldError("canaryWeight", "applies to strategy canary only")
        if self.strategy == "canary" and self.idle != "keep":
            raise FieldError("idle", "a canary serves from both slots: idle must be keep")
        if _is_zero(self.max_surge) and _is_zero(self.max_unavailable):
            raise FieldError("maxUnavailable", "maxSurge and maxUnavailable cannot both be zero")
        return self


def _pool_name(value: str) -> str:
    # Pool Services are named <deployment>-<pool>: these would collide with slot Services.
    if value in ("blue", "green", "main"):
        raise ValueError(f"'{value}' names a slot; choose another pool name")
    return value


class PoolSpec(SpecModel):
    """A group of replicas on one kind of hardware; pools share the model and the slots."""

    name: Annotated[
        str,
        AfterValidator(POOL_NAME.check),
        AfterValidator(_pool_name),
    ]
    gpu: GpuSpec | None = None
    resources: ResourcesSpec | None = None
    replicas: Annotated[int, Field(ge=0, le=1000)] | None = None
    # weighted: share of requests relative to the other pools.
    weight: Annotated[int, Field(ge=1, le=1000)] = 1
    # failover: 0 serves; higher numbers are backups used when every lower one is down.
    priority: Annotated[int, Field(ge=0, le=9)] = 0


def _is_zero(value: int | str | None) -> bool:
    if isinstance(value, str):
        return int(value.rstrip("%")) == 0
    return value == 0


class DeploymentSpec(ExternalFields):
    name: DeploymentName
    description: Annotated[str, Field(max_length=1024), AfterValidator(printable_text)] | None = (
        None
    )
    model: ModelSpec | None = None
    engine: EngineName = "auto"
    image: Image | None = None
    precision: Precision = "auto"
    profile: Profile = "latency"
    gpu: GpuSpec | None = None
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
    placement: PlacementSpec = Field(default_factory=PlacementSpec)
    replicas: Annotated[int, Field(ge=0, le=1000)] | None = None
    env: EnvMap = Field(default_factory=dict)
    # Pull Secrets already in the namespace, besides the stack's registries.
    image_pull_secrets: list[ObjectName] = Field(default_factory=list)
    # Appended to the engine's command line; flags modelstack sets itself are refused.
    engine_args: list[
        Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_engine_argument)]
    ] = Field(default_factory=list)
    tags: Tags = Field(default_factory=dict)
    cache: CacheSpec = Field(default_factory=CacheSpec)
    rollout: RolloutSpec = Field(default_factory=RolloutSpec)
    startup_timeout_seconds: Annotated[int, Field(ge=60, le=6 * 3600)] = 1800
    # stopped: configuration, cache and route stay; no engine runs; the route answers 503.
    state: Literal["running", "stopped"] = "running"
    load_balancer: LoadBalancerSpec = Field(default_factory=LoadBalancerSpec)
    route: RouteSpec | None = None
    pools: list[PoolSpec] = Field(default_factory=list)
    adapters: list[AdapterSpec] = Field(default_factory=list)
    adapter_loading: AdapterLoadingSpec = Field(default_factory=AdapterLoadingSpec)
    # Kubernetes only: the plan rejects it on docker.
    autoscaling: AutoscalingSpec | None = None
    # Overrides the stack's monitoring.alerts for this deployment.
    alerts: AlertsSpec = Field(default_factory=AlertsSpec)
    # Kubernetes only: RFC 6902 operations on the rendered objects (spec_patches.py).
    patches: list[PatchSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _pools(self) -> DeploymentSpec:
        names = [pool.name for pool in self.pools]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise FieldError("pools", f"pool names must be unique: {', '.join(duplicates)}")
        adapter_names = [adapter.name for adapter in self.adapters]
        repeated = sorted({n for n in adapter_names if adapter_names.count(n) > 1})
        if repeated:
            raise FieldError("adapters", f"adapter names must be unique: {', '.join(repeated)}")
        return self

    @property
    def gpu_count(self) -> int:
        return self.gpu.count if self.gpu else 0


class RegistrySpec(SpecModel):
    """A private registry engines and loaders pull from.

    Either credentials (`username`; the password is the Pulumi secret
    `registryPasswords.<name>`) from which modelstack creates a pull Secret, or the name of
    a pull Secret that already exists in the namespace.
    """

    name: Annotated[str, AfterValidator(REGISTRY_NAME.check)]
    server: Annotated[str, AfterValidator(REGISTRY_SERVER.check)] | None = None
    username: Annotated[str, AfterValidator(USERNAME.check)] | None = None
    existing_secret: ObjectName | None = None

    @model_validator(mode="after")
    def _one_way(self) -> RegistrySpec:
        if (self.existing_secret is None) == (self.username is None):
            raise FieldError(
                "username", "give username and server (password as a secret) or existingSecret"
            )
        if self.username is not None and self.server is None:
            raise FieldError("server", "required with username (e.g. ghcr.io)")
        return self


class HfTokenRef(SpecModel):
    """The HF token read from a Secret that already exists in the namespace."""

    secret_key_ref: KeyRef


class StackSpec(SpecModel):
    environment: Environment
    target: Target
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    docker: DockerSettings = Field(default_factory=DockerSettings)
    # True: a Pulumi secret (never in the spec; the program reads it). Or a Secret already
    # in the cluster: {secretKeyRef: {name, key}} (Kubernetes only).
    hf_token: bool | HfTokenRef = False
    registries: list[RegistrySpec] = Field(default_factory=list)
    # Names of the registries that have a password (the secret values stay in Pulumi).
    registry_passwords: list[str] = Field(default_factory=list)
    # Names of the deployments whose engine requires an API key (the keys stay in Pulumi).
    engine_api_keys: list[str] = Field(default_factory=list)
    # A shell next to the running engines, for a few named people (off when absent).
    debug_access: DebugAccessSpec | None = None
    deployments: list[DeploymentSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _hf_token_ref(self) -> StackSpec:
        refusal = target_profile(self.target).secret_references.refusal
        if isinstance(self.hf_token, HfTokenRef) and refusal is not None:
            raise FieldError("hfToken", refusal)
        return self

    @model_validator(mode="after")
    def _registry_passwords(self) -> StackSpec:
        with_username = {r.name for r in self.registries if r.username}
        missing = sorted(with_username - set(self.registry_passwords))
        if missing:
            raise FieldError(
                "registryPasswords",
                f"no password for {', '.join(missing)}: `pulumi config set --secret --path "
                f"'registryPasswords.{missing[0]}' <password>`",
            )
        unknown = sorted(set(self.registry_passwords) - with_username)
        if unknown:
            raise FieldError(
                "registryPasswords",
                f"{', '.join(unknown)}: no registry with a username by that name",
            )
        return self
