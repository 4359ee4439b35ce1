"""The Gateway API Inference Extension's endpoint picker (EPP), as declared data.

Source: github.com/kubernetes-sigs/gateway-api-inference-extension at tag v1.5.0 (commit
df9f8909fe06fe2dfd4a6fc0bd0c01a0acabf849), the last release that builds the full picker
(at v1.6.0 the repository keeps a round-robin "lwepp" only; the scheduler moved to
llm-d). Read there:
- config/charts/inferencepool/values.yaml: image, pull policy, ext-proc port 9002,
  failureMode FailOpen, resources;
- config/charts/epplib/templates/_deployment.yaml: args, ports, gRPC probes on 9003
  (service `inference-extension`; `liveness`/`readiness` with leader election), env,
  strategy Recreate, terminationGracePeriodSeconds 130;
- config/charts/epplib/templates/_config.yaml: the plugins file (scorer weights);
- config/charts/epplib/templates/_rbac.yaml, _leader-election-rbac.yaml and
  config/charts/inferencepool/templates/rbac.yaml: what the picker reads and writes;
- pkg/epp/framework/plugins/datalayer/extractor/metrics/factories.go: the engines whose
  metrics the picker reads (`defaultEngineConfigs`: vllm, sglang, trtllm-serve,
  triton-tensorrt-llm) and the series of each.
- pkg/epp/server/options.go: `Validate()` refuses the old per-metric flags
  (`--total-queued-requests-metric` ...) even though the chart still renders them for
  sglang; the engine is chosen with the core-metrics-extractor's `defaultEngine` instead.

The image is pinned by tag: no public record of its digest could be read offline (see
components/planning/helper_images.py for the same rule on modelstack's other images).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RELEASE = "v1.5.0"
IMAGE = f"registry.k8s.io/gateway-api-inference-extension/epp:{RELEASE}"
IMAGE_SOURCE = (
    "github.com/kubernetes-sigs/gateway-api-inference-extension "
    f"{RELEASE}:config/charts/inferencepool/values.yaml; no public record of the tag's "
    "digest was found offline, so every environment uses the tag"
)

POOL_API_GROUP = "inference.networking.k8s.io"
POOL_API_VERSION = f"{POOL_API_GROUP}/v1"
# The picker's own API group (its config file, InferenceObjective, InferenceModelRewrite).
EXPERIMENTAL_API_GROUP = "inference.networking.x-k8s.io"
CONFIG_API_VERSION = f"{EXPERIMENTAL_API_GROUP}/v1alpha1"

EXT_PROC_PORT = 9002
HEALTH_PORT = 9003
METRICS_PORT = 9090
# gRPC health service names the picker answers: one replica, or leader election (then only
# the leader is ready).
HEALTH_SERVICE = "inference-extension"
HA_LIVENESS_SERVICE = "liveness"
HA_READINESS_SERVICE = "readiness"
# The Gateway keeps routing without the picker's choice when it does not answer.
FAILURE_MODE = "FailOpen"
CONFIG_DIR = "/config"
CONFIG_FILE = "default-plugins.yaml"
# "Conservatively, this timeout should mirror the longest grace period of the pods within
# the pool" (the chart).
TERMINATION_GRACE_SECONDS = 130

ARGS = (
    "--pool-group",
    POOL_API_GROUP,
    "--zap-encoder",
    "json",
    "--config-file",
    f"{CONFIG_DIR}/{CONFIG_FILE}",
    # No ServiceMonitor with a token here: the metrics port is reached inside the cluster.
    "--metrics-endpoint-auth=false",
)
LEADER_ELECTION_ARG = "--ha-enable-leader-election"

# Upstream requests 4 CPUs and 8Gi (limit 16Gi, no CPU limit), sized for p90 scheduling
# within 100 ms at high QPS over a large pool. One deployment's slot is far smaller, and
# the container-resources guardrail asks for a CPU limit: modest values that the
# stack file's `patches:` can raise.
RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "500m", "memory": "1Gi"},
    "limits": {"cpu": "2", "memory": "4Gi"},
}

# Scheduling profile `default`: plugin type -> weight (the chart's, unchanged).
SCORERS: tuple[tuple[str, int], ...] = (
    ("queue-scorer", 2),
    ("kv-cache-utilization-scorer", 2),
    ("prefix-cache-scorer", 3),
)
METRICS_SOURCE = "metrics-data-source"
METRICS_EXTRACTOR = "core-metrics-extractor"

# Role rules: the pool and its pods, and the picker's optional objectives and rewrites.
RULES: tuple[dict[str, Any], ...] = (
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch", "list"]},
    {
        "apiGroups": [POOL_API_GROUP],
        "resources": ["inferencepools"],
        "verbs": ["get", "watch", "list"],
    },
    {
        "apiGroups": [EXPERIMENTAL_API_GROUP],
        "resources": ["inferenceobjectives", "inferencemodelrewrites"],
        "verbs": ["get", "watch", "list"],
    },
)
LEADER_ELECTION_RULES: tuple[dict[str, Any], ...] = (
    {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
)


@dataclass(frozen=True)
class PickerEngine:
    """How the picker reads one engine: its name in the core-metrics-extractor and the
    series it scores with (factories.go `defaultEngineConfigs`)."""

    name: str
    queued: str
    running: str
    kv_cache_usage: str


# Keyed by modelstack's engine name (components/catalog/engines). TGI, llama.cpp and
# Ollama are absent: the picker has no configuration for their series.
ENGINES: dict[str, PickerEngine] = {
    "vllm": PickerEngine(
        "vllm", "vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc"
    ),
    "sglang": PickerEngine(
        "sglang", "sglang:num_queue_reqs", "sglang:num_running_reqs", "sglang:token_usage"
    ),
}
# The extractor's default engine: no parameter needed for it.
DEFAULT_ENGINE = "vllm"
