"""Metrics: a Service over every engine pod, its ServiceMonitor, and a Grafana dashboard.

The dashboard shows what seed 001 lists per deployment: request rate, latency p50/p95/p99,
error rate and tokens per second, written against each engine's own series (the engine
catalog owns the names). A panel the engine cannot feed says so instead of staying empty.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from components import identity
from components.catalog.engines.request_metrics import RequestMetrics
from components.kubernetes.manifests import labels
from components.kubernetes.manifests.pod import PORT_NAME
from components.plan import DeploymentPlan

WINDOW = "5m"


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
    scope = f'namespace="{deployment.namespace}", job="{metrics_service_name(deployment)}"'
    panels = [
        _panel(0, "Requests per second", _rate(metrics.completed, scope), "reqps", engine.name),
        _panel(
            1,
            "Latency (end to end)",
            [
                (
                    f"histogram_quantile({q}, sum by (le) "
                    f"(rate({metrics.latency_bucket}{{{scope}}}[{WINDOW}])))",
                    f"p{int(q * 100)}",
                )
                for q in (0.5, 0.95, 0.99)
            ]
            if metrics.latency_bucket
            else [],
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
    return [(f"sum(rate({_scoped(series, scope)}[{WINDOW}]))", "all replicas")]


def _error_rate(metrics: RequestMetrics, scope: str) -> list[tuple[str, str]]:
    if metrics.failed is None or metrics.completed is None:
        return []
    failed = f"sum(rate({_scoped(metrics.failed, scope)}[{WINDOW}]))"
    done = f"sum(rate({_scoped(metrics.completed, scope)}[{WINDOW}]))"
    return [(f"{failed} / clamp_min({failed} + {done}, 1e-9)", "failed / all")]


def _scoped(series: str, scope: str) -> str:
    """`name` or `name{labels}` with the deployment's scope added to the selector."""
    if series.endswith("}"):
        return f"{series[:-1]}, {scope}}}"
    return f"{series}{{{scope}}}"


def _panel(
    index: int, title: str, queries: list[tuple[str, str]], unit: str, engine: str
) -> dict[str, Any]:
    position = {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8}
    if not queries:
        return {
            "id": index + 1,
            "type": "text",
            "title": title,
            "gridPos": position,
            "options": {"mode": "markdown", "content": f"{engine} does not export this series."},
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
