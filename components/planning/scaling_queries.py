"""PromQL for autoscaling: one query per metric, over the pods of one workload.

Series are selected by the `namespace` and `pod` labels Prometheus attaches to scraped
targets (Prometheus Operator ServiceMonitor and PodMonitor do). A Deployment's pods are
named `<workload>-<replica set hash>-<pod hash>`, so the pattern below matches one
workload's pods and not those of a workload whose name merely starts the same way.

Every query answers 0 rather than nothing when no pod exports the series (scaled to zero,
still loading): an empty answer would otherwise count as an error.
"""

from __future__ import annotations

from components.catalog.engines.request_metrics import RequestMetrics

# Long enough for two scrapes at the common 30 s interval.
RATE_WINDOW = "2m"
LATENCY_QUANTILE = 0.95
# NVIDIA DCGM exporter: percent of time the GPU was busy.
GPU_UTILIZATION = "DCGM_FI_DEV_GPU_UTIL"


def pod_selector(namespace: str, workload: str) -> str:
    return f'namespace="{namespace}",pod=~"{workload}-[a-z0-9]+-[a-z0-9]+"'


def request_query(metric: str, series: RequestMetrics, selector: str) -> str | None:
    """The query for a request metric, or None when the engine exports no series for it."""
    if metric == "concurrency" and series.running:
        return f"sum({series.running}{{{selector}}}) or vector(0)"
    if metric == "queue" and series.waiting:
        return f"sum({series.waiting}{{{selector}}}) or vector(0)"
    if metric == "throughput" and series.completed:
        return f"sum(rate({series.completed}{{{selector}}}[{RATE_WINDOW}])) or vector(0)"
    if metric == "latency" and series.latency_bucket:
        rate = f"sum by (le) (rate({series.latency_bucket}{{{selector}}}[{RATE_WINDOW}]))"
        # With no requests in the window every bucket rate is 0 and the quantile is NaN:
        # `> 0` drops NaN, so the query falls back to 0.
        return f"histogram_quantile({LATENCY_QUANTILE}, {rate}) > 0 or vector(0)"
    return None


def gpu_utilization_query(namespace: str, workload: str, gpus_per_replica: int) -> str:
    """Sum over replicas of each replica's mean GPU utilization (percent).

    The DCGM exporter labels series with the GPU's pod and namespace. Scraped with
    honorLabels those stay `pod`/`namespace`; without, Prometheus renames them to
    `exported_pod`/`exported_namespace`. Both spellings are selected, so either works.
    """
    pods = f'"{workload}-[a-z0-9]+-[a-z0-9]+"'
    honored = f'{GPU_UTILIZATION}{{namespace="{namespace}",pod=~{pods}}}'
    renamed = f'{GPU_UTILIZATION}{{exported_namespace="{namespace}",exported_pod=~{pods}}}'
    total = f"sum({honored} or {renamed})"
    if gpus_per_replica > 1:
        total = f"{total} / {gpus_per_replica}"
    return f"{total} or vector(0)"
