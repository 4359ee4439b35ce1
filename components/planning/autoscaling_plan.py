"""The autoscaling plan's shape: one autoscaler per slot workload, decided and frozen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ScalingMetricPlan:
    # cpu | memory | gpu | concurrency | queue | throughput | latency
    type: str
    target: float
    # PromQL whose value is held at `target`; None for cpu and memory (resource metrics).
    query: str | None = None
    # AverageValue: the query sums over the replicas and the target is per replica.
    # Value: the query is one figure for the workload (p95 latency), scaled in proportion.
    metric_type: Literal["AverageValue", "Value", "Utilization"] = "AverageValue"
    # Whether this metric may bring replicas back from zero (requests do, utilization not).
    wakes: bool = True

    @property
    def trigger(self) -> str:
        """Its KEDA trigger's name: one metric per type, so unique in the ScaledObject, and
        the key of Flagger's primaryScalerQueries for a progressive canary's primary."""
        return self.type


@dataclass(frozen=True)
class ScalingPolicyPlan:
    type: str
    value: int
    period_seconds: int


@dataclass(frozen=True)
class ScalingRulesPlan:
    """One direction of HPA v2 behavior, with the same meanings."""

    stabilization_seconds: int
    select_policy: str
    policies: tuple[ScalingPolicyPlan, ...] = ()


@dataclass(frozen=True)
class ScheduleWindowPlan:
    timezone: str
    start: str
    end: str
    min_replicas: int


@dataclass(frozen=True)
class RequestHoldingPlan:
    """Scale to zero: the KEDA HTTP add-on's interceptor holds requests while a replica starts."""

    # The HTTPScaledObject (one per deployment, aimed at the serving workload).
    name: str
    workload: str
    service: str
    port: int
    # The Host header the interceptor routes by: the stable Service's cluster name.
    host: str
    # Where traffic must enter, and where KEDA asks for pending requests.
    interceptor: str
    scaler_address: str
    # In-flight requests per replica the add-on aims for.
    concurrency_target: int
    # How long a held request waits for a ready replica: a model load.
    condition_wait_seconds: int
    # How long the engine may take to send response headers (a whole generation).
    response_header_seconds: int


@dataclass(frozen=True)
class AutoscalingPlan:
    # hpa: cpu and memory only; keda: anything else (requests, GPU, windows, zero).
    kind: Literal["hpa", "keda"]
    name: str
    workload: str
    min_replicas: int
    max_replicas: int
    metrics: tuple[ScalingMetricPlan, ...]
    scale_up: ScalingRulesPlan
    scale_down: ScalingRulesPlan
    windows: tuple[ScheduleWindowPlan, ...] = ()
    # 0: no replicas while every trigger is idle (scale to zero, or outside the windows).
    idle_replicas: int | None = None
    cooldown_seconds: int | None = None
    # A slot that does not serve (blue-green idle): held at this count, autoscaling paused.
    held_replicas: int | None = None
    prometheus: str | None = None
    request_holding: RequestHoldingPlan | None = None

    @property
    def serving(self) -> bool:
        return self.held_replicas is None
