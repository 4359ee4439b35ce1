"""PromQL for autoscaling: one query per metric, over the pods of one workload.

Series are selected by the `namespace` and `pod` labels Prometheus attaches to scraped
targets (Prometheus Operator ServiceMonitor and PodMonitor do). A Deployment's pods are
named `<workload>-<replica set hash>-<pod hash>`, so the pattern below matches one
workload's pods and not those of a workload whose name merely starts the same way.

Every query answers 0 rather than nothing when no pod exports the series (scaled to zero,
still loading): an empty answer would otherwise count as an error.
"""

from __future__ import annotations

from collections.abc import Sequence

from components.catalog.engines.request_metrics import RequestMetrics
from components.catalog.gpu_metrics import GPU_METRICS, RENAMED_PREFIX, GpuMetrics
from components.planning.promql import pods_matcher, quantile, scoped, string

# Long enough for two scrapes at the common 30 s interval.
RATE_WINDOW = "2m"
LATENCY_QUANTILE = 0.95


def pod_selector(namespace: str, *workloads: str) -> str:
    return f"namespace={string(namespace)},{pods_matcher('pod', workloads)}"


def histogram_of(metric: str, series: RequestMetrics) -> str | None:
    """The buckets behind a p95 metric (latency, ttft, itl), None when not exported."""
    buckets = {
        "latency": series.latency_bucket,
        "ttft": series.ttft_bucket,
        "itl": series.itl_bucket,
    }
    return buckets.get(metric)


def request_query(metric: str, series: RequestMetrics, selector: str) -> str | None:
    """The query for a request metric, or None when the engine exports no series for it."""
    if metric == "concurrency" and series.running:
        return f"sum({scoped(series.running, selector)}) or vector(0)"
    if metric == "queue" and series.waiting:
        return f"sum({scoped(series.waiting, selector)}) or vector(0)"
    if metric == "throughput" and series.completed:
        return f"sum(rate({scoped(series.completed, selector)}[{RATE_WINDOW}])) or vector(0)"
    if metric == "kv-cache" and series.kv_cache_usage:
        # The gauge is a share (0-1), the target a percent: the mean over the pods.
        return f"avg({scoped(series.kv_cache_usage, selector)}) * 100 or vector(0)"
    bucket = histogram_of(metric, series)
    if bucket:
        # With no requests in the window every bucket rate is 0 and the quantile is NaN:
        # `> 0` drops NaN, so the query falls back to 0.
        p95 = quantile(LATENCY_QUANTILE, bucket, selector, RATE_WINDOW)
        return f"{p95} > 0 or vector(0)"
    return None


def workload_query(
    metric: str,
    series: RequestMetrics | None,
    namespace: str,
    workload: str,
    gpus_per_replica: int,
) -> str | None:
    """The query for a Prometheus-read metric over one workload's pods (None: no series).

    The one builder for every workload a metric is asked about: a slot's own autoscaler, and
    Flagger's primary copy of it (`<target>-primary`, planning/progressive_delivery.py).
    """
    if metric == "gpu":
        return gpu_utilization_query(namespace, workload, gpus_per_replica)
    if series is None:
        return None
    return request_query(metric, series, pod_selector(namespace, workload))


def gpu_series(gpu: GpuMetrics, series: str, namespace: str, workloads: Sequence[str]) -> str:
    """`series` of the GPUs allocated to these workloads' pods.

    The exporter labels series with the GPU's pod and namespace. Scraped with honorLabels
    those stay `pod`/`namespace`; without, Prometheus renames them to
    `exported_pod`/`exported_namespace`. Both spellings are selected, so either works.
    """
    spellings = []
    for prefix in ("", RENAMED_PREFIX):
        matchers = (
            f"{prefix}{gpu.namespace_label}={string(namespace)},"
            f"{pods_matcher(prefix + gpu.pod_label, workloads)}"
        )
        spellings.append(f"{series}{{{matchers}}}")
    return " or ".join(spellings)


def gpu_utilization_query(namespace: str, workload: str, gpus_per_replica: int) -> str:
    """Sum over replicas of each replica's mean GPU utilization (percent), from DCGM."""
    nvidia = GPU_METRICS["nvidia"]
    total = f"sum({gpu_series(nvidia, nvidia.utilization, namespace, [workload])})"
    if gpus_per_replica > 1:
        total = f"{total} / {gpus_per_replica}"
    return f"{total} or vector(0)"
