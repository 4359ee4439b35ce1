"""What modelstack calls things, and how to read it back: one home for both targets.

Object names (deterministic: the same stack file always yields the same names), the label
and annotation keys modelstack writes, the values of `app.kubernetes.io/component` that say
what an object is for, and the readers that take them apart again. The targets write them,
status, review and the guardrails read them; none of them spells a key itself.

Kubernetes: routine edits (scale, version bump, blue-green switch) never change a name, so
nothing is replaced. Only loader Jobs carry a content hash: a Job's template is immutable,
so a new model revision gets a new Job instead of a failed update.

Docker (the last section): a daemon has no namespaces, so every container and volume name
starts with the stack's namespace, and the network is the namespace. Engine containers
carry a hash of what they run, `<namespace>-<workload>-<replica>-<hash>`: a new hash is a
new container, started before the old one goes. `parse_engine_name` and
`parse_engine_container` read those names back (whole-name matches, never a prefix).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

# -- label keys ---------------------------------------------------------------------------

# modelstack's own: which stack-file deployment, slot, pool and engine an object belongs to.
DEPLOYMENT = "modelstack.io/deployment"
SLOT = "modelstack.io/slot"
POOL = "modelstack.io/pool"
ENGINE = "modelstack.io/engine"
# Kubernetes' recommended labels:
# https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
APP_NAME = "app.kubernetes.io/name"
COMPONENT = "app.kubernetes.io/component"
INSTANCE = "app.kubernetes.io/instance"
VERSION = "app.kubernetes.io/version"
PART_OF_KEY = "app.kubernetes.io/part-of"
MANAGED_BY_KEY = "app.kubernetes.io/managed-by"
PART_OF = "modelstack"
MANAGED_BY = "pulumi"
# What the Job controller labels a Job's pods with (the older key before Kubernetes 1.27).
JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")

# -- what an object is for: values of COMPONENT --------------------------------------------

ENGINE_COMPONENT = "inference-engine"
STABLE_ENDPOINT = "endpoint"
SLOT_ENDPOINT = "slot-endpoint"
POOL_ENDPOINT = "pool-endpoint"
# The headless Service Prometheus scrapes through: no client traffic flows there.
METRICS_ENDPOINT = "metrics"
MODEL_CACHE = "model-cache"
MODEL_LOADER = "model-loader"
REGISTRY_CREDENTIALS = "registry-credentials"
CREDENTIALS = "credentials"
AUTOSCALER = "autoscaler"
REQUEST_INTERCEPTOR = "request-interceptor"
DASHBOARD = "dashboard"
# The adapters an engine loads while it runs, and the sidecar that loads them.
RUNTIME_ADAPTERS = "runtime-adapters"
# A deployment's PrometheusRule (monitoring.alerts).
ALERT_RULES = "alert-rules"
# A Flagger Canary and its MetricTemplates (rollout.progressive).
PROGRESSIVE_DELIVERY = "progressive-delivery"
NETWORK_POLICY = "network-policy"
# loadBalancer.algorithm inference_aware: a slot's InferencePool and its endpoint picker.
INFERENCE_POOL = "inference-pool"
ENDPOINT_PICKER = "endpoint-picker"
# The stack's shared endpoint (one OpenAI base URL, routed by the body's `model`).
SHARED_ENDPOINT = "shared-endpoint"
# modelstack:debugAccess: the Role and RoleBinding that let a few people open a shell.
DEBUG_ACCESS = "debug-access"
# external.endpoints: an Envoy Gateway Backend for a service modelstack does not run.
EXTERNAL_ENDPOINT = "external-endpoint"

# -- annotation keys ----------------------------------------------------------------------

MODEL_SOURCE = "modelstack.io/model-source"
MODEL_REVISION = "modelstack.io/model-revision"
DESCRIPTION = "modelstack.io/description"
# On objects the stack file's `patches:` changed.
PATCHED_ANNOTATION = "modelstack.io/patched"
# On an endpoint picker's pods: its config file's hash, so a new config restarts the picker.
CONFIG_HASH = "modelstack.io/config-hash"
# On the debug Role in prod: the stack file says `allowInProd: true` (guardrails read it).
DEBUG_ACCESS_IN_PROD = "modelstack.io/debug-access-in-prod"
# On an external endpoint's Backend: the URL the stack file gives (for people and status).
EXTERNAL_URL = "modelstack.io/external-url"

# -- names --------------------------------------------------------------------------------


def workload(deployment: str, slot: str, strategy: str, pool: str | None = None) -> str:
    """A slot's workload: `llama` (rolling), `llama-blue`, and with pools `llama-blue-h100`."""
    name = deployment if strategy == "rolling" else f"{deployment}-{slot}"
    return f"{name}-{pool}" if pool else name


def pool_service(deployment: str, pool: str) -> str:
    """Reaches one pool of the serving slot (a route weighs pools against each other)."""
    return f"{deployment}-{pool}"


def slot_service(deployment: str, slot: str) -> str:
    """Reaches one blue-green slot across its pools."""
    return f"{deployment}-{slot}"


def stable_service(deployment: str) -> str:
    """The Service clients call; it selects the serving slot."""
    return deployment


def external_backend(deployment: str, index: int) -> str:
    """An Envoy Gateway Backend for external.endpoints[index] (named by position: a URL edit
    updates it in place)."""
    return f"{deployment}-external-{index}"


def cache_claim(deployment: str) -> str:
    return f"{deployment}-cache"


def hf_token_secret(deployment: str) -> str:
    return f"{deployment}-hf-token"


def api_key_secret(deployment: str) -> str:
    return f"{deployment}-api-key"


def adapters_config_map(deployment: str) -> str:
    """The adapters an engine loads while it runs (`adapterLoading.mode: runtime`)."""
    return f"{deployment}-adapters"


def alert_rules(deployment: str) -> str:
    return f"{deployment}-alerts"


def flagger_primary(workload: str) -> str:
    """What Flagger names the copy it serves from (Deployment and Service) and the canary's
    Service: its own naming, `<target>-primary` and `<target>-canary`."""
    return f"{workload}-primary"


def flagger_canary_service(workload: str) -> str:
    return f"{workload}-canary"


def metric_template(deployment: str, check: str) -> str:
    """A progressive canary's MetricTemplate: one per check (error-rate, latency)."""
    return f"{deployment}-{check}"


def request_interceptor_route(deployment: str) -> str:
    """The HTTPScaledObject of a deployment that scales to zero. The add-on's docs ask for
    a name other than the ScaledObject's (the slot workload's name)."""
    return f"{deployment}-interceptor"


def inference_pool(deployment: str, slot: str, strategy: str) -> str:
    """A slot's InferencePool: `llama` (rolling), `llama-blue`, `llama-green`."""
    return deployment if strategy == "rolling" else f"{deployment}-{slot}"


def endpoint_picker(pool: str) -> str:
    """The picker of a pool: its Deployment, Service, ServiceAccount, Role, RoleBinding and
    ConfigMap (the upstream chart's `<pool>-epp`)."""
    return f"{pool}-epp"


def loader_job(deployment: str, content: object) -> str:
    return f"{deployment}-fetch-{content_hash(content)}"


def content_hash(content: object) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def debug_access() -> str:
    """The debug Role and its RoleBinding: one per namespace, as the grant is namespace-wide."""
    return "modelstack-debug-access"


def registry_secret(registry: str) -> str:
    """The pull Secret modelstack creates for a registry (one per namespace)."""
    return f"modelstack-registry-{registry}"


# -- readers ------------------------------------------------------------------------------


def deployment_of(labels: Mapping[str, str]) -> str | None:
    """The stack-file deployment an object belongs to."""
    return labels.get(DEPLOYMENT)


def slot_of(labels: Mapping[str, str]) -> str | None:
    return labels.get(SLOT)


def component_of(labels: Mapping[str, str]) -> str | None:
    """What the object is for (ENGINE_COMPONENT, SLOT_ENDPOINT...)."""
    return labels.get(COMPONENT)


# -- the docker target --------------------------------------------------------------------

# What only the docker target writes: the gateway container's COMPONENT, and on engine
# containers whether their model's cache was complete when they were created.
GATEWAY_COMPONENT = "gateway"
CACHE_STATE = "modelstack.io/cache"
CACHE_COMPLETE = "ready"
CACHE_PARTIAL = "partial"
# How many hex digits of the content hash an engine container's name carries.
ENGINE_FINGERPRINT_LENGTH = 6
_ENGINE_NAME = re.compile(r"(?P<workload>.+)-(?P<replica>\d+)-(?P<fingerprint>[0-9a-f]+)")


def docker_name(namespace: str, name: str) -> str:
    """A container or volume of the stack: its name under the stack's namespace."""
    return f"{namespace}-{name}"


def of_stack(namespace: str, docker_object_name: str) -> bool:
    """Whether a container or volume name belongs to the stack of that namespace."""
    return docker_object_name.startswith(f"{namespace}-")


def docker_network(namespace: str) -> str:
    """The stack's network: every container of the stack is on it, reached by name."""
    return namespace


def gateway_container(namespace: str) -> str:
    """nginx, in front of every deployment of the stack."""
    return docker_name(namespace, "gateway")


def loader_container(namespace: str, loader_job: str) -> str:
    """The container that fills a cache: named after the loader the plan calls `loader_job`."""
    return docker_name(namespace, loader_job)


def cache_volume(namespace: str, claim: str) -> str:
    """The volume that holds a deployment's cache (`claim`: the plan's cache claim name)."""
    return docker_name(namespace, claim)


def engine_fingerprint(settings: object) -> str:
    """The hash of what an engine container runs (image, command, env, resources...)."""
    return content_hash(settings)[:ENGINE_FINGERPRINT_LENGTH]


def engine_name(workload: str, replica: int, fingerprint: str) -> str:
    """An engine container without its namespace: also its Pulumi resource name."""
    return f"{workload}-{replica}-{fingerprint}"


def engine_container(namespace: str, workload: str, replica: int, fingerprint: str) -> str:
    return docker_name(namespace, engine_name(workload, replica, fingerprint))


@dataclass(frozen=True)
class EngineName:
    """An engine container's name taken apart."""

    workload: str
    replica: int
    fingerprint: str


def parse_engine_name(name: str) -> EngineName | None:
    """`<workload>-<replica>-<hash>` (engine_name) taken apart; None for any other name."""
    match = _ENGINE_NAME.fullmatch(name)
    if match is None:
        return None
    return EngineName(match["workload"], int(match["replica"]), match["fingerprint"])


def parse_engine_container(namespace: str, container: str) -> EngineName | None:
    """`<namespace>-<workload>-<replica>-<hash>` (engine_container) taken apart; None for a
    container of another stack or that is no engine's."""
    if not of_stack(namespace, container):
        return None
    return parse_engine_name(container.removeprefix(f"{namespace}-"))
