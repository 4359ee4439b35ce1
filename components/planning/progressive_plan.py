"""The progressive part of a Kubernetes plan: a Flagger Canary and its checks, decided
(planning/progressive_delivery.py decides it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class MetricCheckPlan:
    # The check's name in the Canary and the MetricTemplate it reads.
    name: str
    template: str
    query: str
    # The canary fails the check above this (percent, or seconds).
    maximum: float


@dataclass(frozen=True)
class PrimaryScalerPlan:
    """The target's autoscaler, named in the Canary's autoscalerRef: Flagger copies it to
    `<its name>-primary` over its primary and owns the copy; the original stays modelstack's."""

    # hpa: a HorizontalPodAutoscaler (autoscaling/v2); keda: a ScaledObject.
    kind: Literal["hpa", "keda"]
    name: str
    # Flagger's copy, `<name>-primary`.
    primary_name: str
    # KEDA trigger name -> the same query over the primary's pods (primaryScalerQueries);
    # empty for triggers without a query (cpu, memory, windows) and for an HPA.
    primary_queries: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProgressivePlan:
    canary: str
    # The Deployment modelstack keeps and Flagger scales (the candidate).
    target: str
    # Flagger's copy that serves, and the label value its pods carry (its name).
    primary: str
    step_weights: tuple[int, ...]
    interval: str
    failed_checks: int
    # Flagger rolls back a canary that makes no progress for this long (model loading).
    progress_deadline_seconds: int
    service_port: int
    gateway_name: str
    gateway_namespace: str
    path: str
    hosts: tuple[str, ...]
    timeout_seconds: int
    prometheus: str
    checks: tuple[MetricCheckPlan, ...]
    # What Flagger creates and owns: (kind, name). modelstack renders none of them.
    flagger_owns: tuple[tuple[str, str], ...]
    # With autoscaling: the autoscaler Flagger copies to its primary (None: fixed replicas).
    autoscaler: PrimaryScalerPlan | None = None
