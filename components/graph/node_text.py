"""What a node in the topology says about its object: a few short lines per kind.

One describer per kind key; a kind without one shows its name only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.catalog.gpus import (
    AKS_ACCELERATOR,
    GKE_ACCELERATOR,
    KARPENTER_GPU_NAME,
    NVIDIA_PRODUCT,
)
from components.identity import (
    COMPONENT,
    ENGINE,
    EXTERNAL_URL,
    MODEL_REVISION,
    MODEL_SOURCE,
    STABLE_ENDPOINT,
)
from components.rendered.objects import labels_of

GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")
GPU_NODE_LABELS = (KARPENTER_GPU_NAME, GKE_ACCELERATOR, AKS_ACCELERATOR, NVIDIA_PRODUCT)

Describer = Callable[[dict[str, Any]], list[str]]
# gpu.nodes > 1: a slot's groups of pods, one leader and workers each.
GROUP_KIND = "LeaderWorkerSet"


def pod_template(obj: dict[str, Any]) -> dict[str, Any]:
    """A workload's pod template; a LeaderWorkerSet's leaders' (they serve), which is its
    worker template when it has no leader template of its own."""
    spec = obj.get("spec", {})
    if obj.get("kind") == GROUP_KIND:
        templates = spec.get("leaderWorkerTemplate", {})
        return templates.get("leaderTemplate") or templates.get("workerTemplate") or {}
    return spec.get("template", {})


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return pod_template(obj).get("spec", {})


def short_image(image: str) -> str:
    """'vllm/vllm-openai:v0.30.0' -> 'vllm-openai:v0.30.0': the tag is what differs."""
    return image.rsplit("/", 1)[-1]


def _workload(obj: dict[str, Any]) -> list[str]:
    spec = pod_spec(obj)
    containers = spec.get("containers") or [{}]
    engine = labels_of(obj).get(ENGINE)
    image = short_image(str(containers[0].get("image", "")))
    lines = [" · ".join(part for part in (engine, image) if part)]
    lines.append(_hardware(containers[0], spec))
    annotations = pod_template(obj).get("metadata", {}).get("annotations")
    revision = (annotations or {}).get(MODEL_REVISION)
    if revision:
        lines.append(f"model rev {revision[:12]}")
    size = obj.get("spec", {}).get("leaderWorkerTemplate", {}).get("size")
    if obj.get("kind") == GROUP_KIND and size:
        lines.append(f"groups of {size} nodes")
    return lines


def _hardware(container: dict[str, Any], spec: dict[str, Any]) -> str:
    limits = container.get("resources", {}).get("limits", {})
    count = next((limits[key] for key in GPU_RESOURCES if key in limits), None)
    if count is None:
        requests = container.get("resources", {}).get("requests", {})
        return f"CPU {requests.get('cpu', '?')} · {requests.get('memory', '?')}"
    selector = spec.get("nodeSelector") or {}
    model = next((selector[key] for key in GPU_NODE_LABELS if key in selector), None)
    return f"{count} x GPU {model}" if model else f"{count} x GPU"


def _service(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec", {})
    ports = ", ".join(str(port.get("port")) for port in spec.get("ports") or [])
    lines = [f"{spec.get('type', 'ClusterIP')} :{ports}" if ports else spec.get("type", "")]
    if labels_of(obj).get(COMPONENT) == STABLE_ENDPOINT:
        lines.append("stable endpoint")
    return lines


def _job(obj: dict[str, Any]) -> list[str]:
    source = (obj.get("metadata", {}).get("annotations") or {}).get(MODEL_SOURCE, "")
    return ["loads " + source.split("://", 1)[-1]] if source else []


def _claim(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec", {})
    size = spec.get("resources", {}).get("requests", {}).get("storage", "?")
    modes = ", ".join(spec.get("accessModes") or [])
    return [" · ".join(p for p in (size, spec.get("storageClassName"), modes) if p)]


def _hpa(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec", {})
    metrics = sorted(
        {
            str((m.get("resource") or {}).get("name") or m.get("type"))
            for m in spec.get("metrics") or []
        }
    )
    return [
        f"{spec.get('minReplicas', 1)}-{spec.get('maxReplicas', '?')} replicas",
        ", ".join(metrics),
    ]


def _scaled_object(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec", {})
    triggers = sorted({str(t.get("type")) for t in spec.get("triggers") or []})
    low, high = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
    return [f"{low}-{high} replicas", ", ".join(triggers)]


def _route(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec", {})
    matches = [match for rule in spec.get("rules") or [] for match in rule.get("matches") or []]
    paths = dict.fromkeys(str(m.get("path", {}).get("value")) for m in matches if m.get("path"))
    hosts = spec.get("hostnames") or []
    # The shared endpoint's rules match a header the body-based router sets from `model`.
    models = [header for m in matches for header in m.get("headers") or []]
    by_model = f"by model: {len(models)} names" if models else ""
    return [line for line in (", ".join(hosts), ", ".join(paths), by_model) if line]


def _extension_policy(obj: dict[str, Any]) -> list[str]:
    return [
        f"ext-proc {ref.get('name')}:{ref.get('port')}"
        for processor in obj.get("spec", {}).get("extProc") or []
        for ref in processor.get("backendRefs") or []
    ]


def _ingress(obj: dict[str, Any]) -> list[str]:
    rules = obj.get("spec", {}).get("rules") or []
    hosts = [str(rule["host"]) for rule in rules if rule.get("host")]
    return [", ".join(hosts)] if hosts else []


def _traffic_policy(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec", {})
    lines = []
    if balancer := spec.get("loadBalancer", {}).get("type"):
        lines.append(str(balancer))
    if spec.get("healthCheck"):
        lines.append("health checks")
    return lines


def _external_backend(obj: dict[str, Any]) -> list[str]:
    """An external endpoint: its URL, and whether it only backs the others up."""
    url = obj.get("metadata", {}).get("annotations", {}).get(EXTERNAL_URL)
    return [str(url or ""), "backup" if obj.get("spec", {}).get("fallback") else ""]


DESCRIBERS: dict[str, Describer] = {
    "apps/Deployment": _workload,
    "apps/StatefulSet": _workload,
    "leaderworkerset.x-k8s.io/LeaderWorkerSet": _workload,
    "core/Service": _service,
    "batch/Job": _job,
    "core/PersistentVolumeClaim": _claim,
    "autoscaling/HorizontalPodAutoscaler": _hpa,
    "keda.sh/ScaledObject": _scaled_object,
    "gateway.networking.k8s.io/HTTPRoute": _route,
    "gateway.networking.k8s.io/GRPCRoute": _route,
    "networking.k8s.io/Ingress": _ingress,
    "gateway.envoyproxy.io/BackendTrafficPolicy": _traffic_policy,
    "gateway.envoyproxy.io/EnvoyExtensionPolicy": _extension_policy,
    "gateway.envoyproxy.io/Backend": _external_backend,
}


def describe(kind: str, obj: dict[str, Any]) -> list[str]:
    describer = DESCRIBERS.get(kind)
    return [line for line in describer(obj) if line] if describer else []
