"""Metrics: a Service over every engine pod, its ServiceMonitor, and a Grafana dashboard.

The dashboard shows what seed 001 lists per deployment: request rate, latency p50/p95/p99,
error rate and tokens per second, then what matters for LLMs: KV-cache use, p95 time to first
token and between tokens, GPU utilization and memory. Each is written against the engine's own
series or the GPU exporter's (the catalog owns the names). A panel nothing can feed says so
instead of staying empty.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from components import identity
from components.catalog.engines.request_metrics import RequestMetrics
from components.catalog.gpu_metrics import GPU_METRICS
from components.kubernetes.manifests import labels
from components.kubernetes.manifests.pod import PORT_NAME
from components.plan import DeploymentPlan
from components.planning.promql import error_ratio, quantile, scoped, string
from components.planning.scaling_queries import gpu_series

WINDOW = "5m"
# Selector lists on the dashboard read `a="x", b="y"`.
SEPARATOR = ", "


def metrics_service_name(deployment: DeploymentPlan) -> str:
    return f"{deployment.name}-metrics"


def metrics_service(deployment: DeploymentPlan) -> dict[str, Any]:
    """Headless: Prometheus scrapes every engine pod of every slot, serving or not."""
    port = deployment.serving.engine.port
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": metrics_service_name(deployment),
            "namespace": deployment.namespace,
            "labels": labels.common(deployment, identity.METRICS_ENDPOINT),
        },
        "spec": {
            "clusterIP": "None",
            "selector": {
                identity.DEPLOYMENT: deployment.name,
                identity.COMPONENT: identity.ENGINE_COMPONENT,
            },
            "ports": [{"name": PORT_NAME, "port": port, "targetPort": PORT_NAME}],
        },
    }


def service_monitor(deployment: DeploymentPlan) -> dict[str, Any]:
    settings = deployment.on_kubernetes.monitoring
    assert settings is not None
    engine = deployment.serving.engine
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {
            "name": deployment.name,
            "namespace": deployment.namespace,
            "labels": {
                **labels.common(deployment, identity.METRICS_ENDPOINT),
                **settings.service_monitor_labels,
            },
        },
        "spec": {
            "selector": {
                "matchLabels": {
                    identity.DEPLOYMENT: deployment.name,
                    identity.COMPONENT: identity.METRICS_ENDPOINT,
                }
            },
            "namespaceSelector": {"matchNames": [deployment.namespace]},
            "endpoints": [
                {
                    "port": PORT_NAME,
                    "path": engine.metrics_path,
                    "interval": f"{settings.scrape_interval_seconds}s",
                }
            ],
        },
    }


def dashboard_config_map(deployment: DeploymentPlan) -> dict[str, Any]:
    """A ConfigMap the Grafana sidecar picks up by its label."""
    settings = deployment.on_kubernetes.monitoring
    assert settings is not None
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{deployment.name}-dashboard",
            "namespace": deployment.namespace,
            "labels": {
                **labels.common(deployment, identity.DASHBOARD),
                settings.dashboard_label: "1",
            },
        },
        "data": {
            f"{deployment.name}.json": json.dumps(dashboard(deployment), indent=1, sort_keys=True)
        },
    }


def dashboard(deployment: DeploymentPlan) -> dict[str, Any]:
    engine = deployment.serving.engine
    metrics = engine.request_metrics or RequestMetrics(None, None, None, None)
    scope = (
        f"namespace={string(deployment.namespace)}{SEPARATOR}"
        f"job={string(metrics_service_name(deployment))}"
    )
    panels = [
        _panel(0, "Requests per second", _rate(metrics.completed, scope), "reqps", engine.name),
        _panel(
            1,
            "Latency (end to end)",
            _quantiles(metrics.latency_bucket, scope, (0.5, 0.95, 0.99)),
            "s",
            engine.name,
        ),
        _panel(2, "Error rate", _error_rate(metrics, scope), "percentunit", engine.name),
        _panel(
            3,
            "Tokens per second (generated)",
            _rate(metrics.generated_tokens, scope),
            "short",
            engine.name,
        ),
        _panel(4, "KV-cache use", _kv_cache(metrics, scope), "percentunit", engine.name),
        _panel(
            5,
            "Time to first token (p95)",
            _quantiles(metrics.ttft_bucket, scope, (0.95,)),
            "s",
            engine.name,
        ),
        _panel(
            6,
            "Inter-token latency (p95)",
            _quantiles(metrics.itl_bucket, scope, (0.95,)),
            "s",
            engine.name,
        ),
        *_gpu_panels(deployment, first=7),
    ]
    digest = hashlib.sha256(f"{deployment.namespace}/{deployment.name}".encode()).hexdigest()
    return {
        # Grafana uids are at most 40 characters: stable per namespace and deployment.
        "uid": f"modelstack-{digest[:16]}",
        "title": f"modelstack / {deployment.namespace} / {deployment.name}",
        "tags": ["modelstack", engine.name],
        "timezone": "browser",
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "schemaVersion": 39,
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Data source",
                }
            ]
        },
        "panels": panels,
    }


def _rate(series: str | None, scope: str) -> list[tuple[str, str]]:
    if series is None:
        return []
    return [(f"sum(rate({scoped(series, scope, SEPARATOR)}[{WINDOW}]))", "all replicas")]


def _quantiles(
    bucket: str | None, scope: str, quantiles: tuple[float, ...]
) -> list[tuple[str, str]]:
    if bucket is None:
        return []
    return [(quantile(q, bucket, scope, WINDOW), f"p{int(q * 100)}") for q in quantiles]


def _error_rate(metrics: RequestMetrics, scope: str) -> list[tuple[str, str]]:
    if metrics.failed is None or metrics.completed is None:
        return []
    ratio = error_ratio(metrics.failed, metrics.completed, scope, WINDOW, SEPARATOR)
    return [(ratio, "failed / all")]


def _kv_cache(metrics: RequestMetrics, scope: str) -> list[tuple[str, str]]:
    if metrics.kv_cache_usage is None:
        return []
    usage = scoped(metrics.kv_cache_usage, scope, SEPARATOR)
    return [(f"avg({usage})", "mean over engines"), (f"max({usage})", "fullest engine")]


def _gpu_panels(deployment: DeploymentPlan, first: int) -> list[dict[str, Any]]:
    """Utilization and memory of the GPUs the deployment's pods hold, per GPU vendor."""
    workloads = [slot.workload_name for slot in deployment.slots]
    vendors = sorted({slot.hardware for slot in deployment.slots} & GPU_METRICS.keys())
    utilization, memory = [], []
    for vendor in vendors:
        gpu = GPU_METRICS[vendor]
        named = f"{vendor} " if len(vendors) > 1 else ""
        busy = gpu_series(gpu, gpu.utilization, deployment.namespace, workloads)
        used = gpu_series(gpu, gpu.memory_used, deployment.namespace, workloads)
        free = gpu_series(gpu, gpu.memory_free, deployment.namespace, workloads)
        utilization += [(f"avg({busy})", f"{named}mean"), (f"max({busy})", f"{named}busiest")]
        memory += [(f"sum({used})", f"{named}used"), (f"sum({free})", f"{named}free")]
    unit = GPU_METRICS[vendors[0]].memory_unit if vendors else "mbytes"
    on_cpu = "This deployment runs on CPU: no GPU series."
    return [
        _panel(first, "GPU utilization", utilization, "percent", missing=on_cpu),
        _panel(first + 1, "GPU memory", memory, unit, missing=on_cpu),
    ]


def _panel(
    index: int,
    title: str,
    queries: list[tuple[str, str]],
    unit: str,
    engine: str = "",
    missing: str | None = None,
) -> dict[str, Any]:
    position = {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8}
    if not queries:
        return {
            "id": index + 1,
            "type": "text",
            "title": title,
            "gridPos": position,
            "options": {
                "mode": "markdown",
                "content": missing or f"{engine} does not export this series.",
            },
        }
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "gridPos": position,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + n), "expr": expr, "legendFormat": legend}
            for n, (expr, legend) in enumerate(queries)
        ],
    }
